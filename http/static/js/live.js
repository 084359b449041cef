// LiveFeed follows voxlogd's /ws: one message per committed event, in seq order. It remembers the last seq
// it delivered and, whenever the socket drops (network gone, server restart, close code 4000 "too slow"),
// reconnects with ?after=<that seq>, so the page sees every event exactly once. Messages at or below the
// last seq (a resume that overlaps) are dropped here, never passed on.
//
// States reported through onState: 'connecting', 'live', 'reconnecting', 'offline'.

import { socketUrl } from './api.js';

const SLOW_CONSUMER = 4000;
const MAX_BACKOFF_MS = 5000;

export class LiveFeed {
  constructor({ onEvent, onState }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastSeq = 0;
    this.socket = null;
    this.backoffMs = 250;
    this.retryTimer = null;
    this.holdUntil = 0;
    this.connections = 0;
    window.addEventListener('offline', () => this.drop());
    window.addEventListener('online', () => this.reconnectSoon(0));
  }

  start(after) {
    this.lastSeq = after;
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!navigator.onLine) return this.setState('offline');
    this.setState(this.connections ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(socketUrl(this.lastSeq));
    this.socket = socket;
    socket.onopen = () => {
      this.connections += 1;
      this.backoffMs = 250;
      this.setState('live');
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.reconnectSoon(event.code === SLOW_CONSUMER ? 0 : this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    };
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message.seq !== 'number' || message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.onEvent(message);
  }

  // Closes the socket as a network failure would; it comes back by itself (after `holdMs`, if given).
  drop(holdMs = 0) {
    this.holdUntil = Date.now() + holdMs;
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.close();
    }
    this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    this.reconnectSoon(holdMs);
  }

  // Ends a hold started by drop(holdMs) and reconnects at once.
  reconnectNow() {
    this.holdUntil = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (!this.socket) this.connect();
  }

  reconnectSoon(delayMs) {
    if (this.socket || this.retryTimer) return;
    const wait = Math.max(delayMs, this.holdUntil - Date.now());
    if (!navigator.onLine) return this.setState('offline');
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }
}
