// A call's audit panel: the call's row and its whole event stream from GET /api/calls/{id}/events, each
// event with its receive time (ms), type, source and, for webhooks, the raw Twilio parameters exactly as
// received. While open it appends the call's new events as they arrive over /ws.

import { api } from './api.js';
import { el, clear } from './dom.js';
import { badge } from './calls.js';
import { duration, outcomeLabel, preciseTime, statusLabel, tone } from './format.js';

export class CallPanel {
  constructor({ root, onClose }) {
    this.root = root;
    this.onClose = onClose;
    this.call = null;
    this.seen = new Set();
    root.addEventListener('click', (e) => e.target === root && this.close());
    document.addEventListener('keydown', (e) => e.key === 'Escape' && !root.hidden && this.close());
  }

  async open(id) {
    this.call = { id };
    this.seen = new Set();
    this.root.hidden = false;
    document.body.classList.add('panel-open');
    const sheet = this.sheet(el('p', { class: 'dim' }, 'Loading the audit trail…'));
    let reply;
    try {
      reply = await api.get(`/api/calls/${encodeURIComponent(id)}/events`);
    } catch (error) {
      sheet.append(el('p', { class: 'error', role: 'alert' }, `Could not load call ${id}: ${error.message}`));
      return;
    }
    if (this.call?.id !== id) return;
    this.call = reply.call;
    this.render(reply.call, reply.data);
  }

  close() {
    this.root.hidden = true;
    this.call = null;
    document.body.classList.remove('panel-open');
    this.onClose();
  }

  isShowing(stream) {
    return !this.root.hidden && this.call?.stream === stream;
  }

  // A live event of the open call: refresh the header, append the event (once).
  live(message) {
    if (!message.event || !this.isShowing(message.event.stream) || this.seen.has(message.event.seq)) return;
    if (message.call) {
      this.call = message.call;
      this.root.querySelector('.call-summary')?.replaceWith(summary(message.call));
    }
    this.list.append(this.eventItem(message.event));
  }

  sheet(...content) {
    const closeButton = el('button', { class: 'icon-button', 'aria-label': 'Close', onclick: () => this.close() }, '×');
    const body = el('div', { class: 'sheet-body' }, ...content);
    clear(this.root).append(
      el('section', { class: 'sheet', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'panel-title' },
        el('header', { class: 'sheet-head' }, el('h2', { id: 'panel-title' }, 'Call audit trail'), closeButton),
        body),
    );
    closeButton.focus();
    return body;
  }

  render(call, events) {
    this.first = events.length ? events[0].ts : 0;
    this.list = el('ol', { class: 'timeline', 'aria-label': 'Events' });
    for (const event of events) this.list.append(this.eventItem(event));
    const body = this.sheet(summary(call), el('h3', {}, 'Events'), this.list);
    if (!events.length) body.append(el('p', { class: 'dim' }, 'This call has no events.'));
  }

  eventItem(event) {
    this.seen.add(event.seq);
    if (!this.first) this.first = event.ts;
    const offset = event.ts - this.first;
    const params = event.data?.params;
    return el('li', { class: 'event', dataset: { type: event.type, seq: event.seq } },
      el('div', { class: 'event-head' },
        el('time', { datetime: new Date(event.ts).toISOString(), title: new Date(event.ts).toISOString() }, preciseTime(event.ts)),
        el('span', { class: 'offset dim' }, `+${(offset / 1000).toFixed(3)} s`),
        el('span', { class: 'event-type' }, event.type),
        el('span', { class: 'source dim' }, event.source || ''),
        el('span', { class: 'seq dim' }, `#${event.seq}`)),
      el('p', { class: 'event-summary' }, describe(event)),
      params && typeof params === 'object' ? paramsTable(params) : null,
      el('details', { class: 'raw' }, el('summary', {}, 'Raw event'), el('pre', {}, JSON.stringify(event, null, 2))));
  }
}

function summary(call) {
  const field = (label, value) => [el('dt', {}, label), el('dd', {}, value === '' || value == null ? '—' : value)];
  const recording = /^https?:\/\//.test(call.recordingUrl || '')
    ? el('a', { href: call.recordingUrl, target: '_blank', rel: 'noopener noreferrer' }, 'Listen')
    : null;
  return el('div', { class: 'call-summary' },
    el('p', { class: 'summary-number' }, call.to || 'Unknown number', ' ',
      badge(statusLabel(call.status), tone(call.status), 'status'), ' ',
      call.outcome ? badge(outcomeLabel(call.outcome), tone(call.outcome), 'outcome') : null),
    el('dl', { class: 'facts' },
      field('Execution', call.executionSid),
      field('Call SID', call.callSid),
      field('From', call.from),
      field('Direction', call.direction),
      field('Duration', duration(call.duration)),
      field('Digits', call.dtmfDigits),
      field('Answered by', call.answeredBy),
      field('Batch', call.batchId),
      field('Created', call.createdAt),
      field('Updated', call.updatedAt),
      recording ? field('Recording', recording) : null));
}

function paramsTable(params) {
  const rows = Object.entries(params).map(([key, value]) =>
    el('tr', {}, el('th', { scope: 'row' }, key), el('td', {}, typeof value === 'string' ? value : JSON.stringify(value))));
  return el('table', { class: 'params', 'aria-label': 'Twilio parameters' },
    el('caption', {}, 'Parameters as received'), el('tbody', {}, rows));
}

// One line saying what the event means, from its data.
function describe(event) {
  const d = event.data || {};
  switch (event.type) {
    case 'WebhookReceived':
      return `Webhook on /webhooks/${d.route || '?'} (${d.content_type || 'unknown type'})`;
    case 'CallStatusChanged':
      return `Status ${d.previous || 'new'} → ${d.status}${d.duration ? `, ${d.duration}s` : ''}${d.answered_by ? `, answered by ${d.answered_by}` : ''}`;
    case 'DigitsPressed':
      return `Pressed ${d.digits}`;
    case 'AppointmentConfirmed':
      return `Appointment confirmed (key ${d.digits})`;
    case 'AppointmentCancelled':
      return `Appointment cancelled (key ${d.digits})`;
    case 'VoicemailRequested':
      return `Asked to leave a voicemail (key ${d.digits})`;
    case 'RecordingAvailable':
      return `Recording available`;
    case 'FlowEventReceived':
      return `Flow step "${d.event}"${d.widget ? ` at widget ${d.widget}` : ''}`;
    case 'ExecutionCreated':
      return `Studio execution ${d.execution_sid} created for ${d.to}`;
    case 'CallRequested':
      return `Call to ${d.to} requested`;
    default:
      return '';
  }
}
