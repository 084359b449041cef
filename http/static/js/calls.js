// The live calls table. CallStore holds every call row the page knows, keyed by the view's id, and keeps
// the newest version of each (highest lastSeq), so a row arriving twice (REST page and /ws, or a resume
// that overlaps) replaces itself instead of showing up as a second call. CallsTable draws the store through
// the filters, newest first, and rebuilds only the rows that changed.

import { api, query } from './api.js';
import { el, clear } from './dom.js';
import { duration, outcomeLabel, rowTime, statusLabel, tone, when } from './format.js';

export class CallStore {
  constructor() {
    this.rows = new Map();
    this.listeners = [];
  }

  // Keeps `row` if it is newer than what we hold; returns whether anything changed. `live` marks a change
  // that just happened (from /ws), as opposed to history being loaded.
  upsert(row, live = false) {
    if (!row || row.id === undefined || row.id === null) return false;
    const held = this.rows.get(row.id);
    if (held && held.lastSeq >= row.lastSeq) return false;
    this.rows.set(row.id, row);
    for (const listener of this.listeners) listener(row, live);
    return true;
  }

  onChange(listener) {
    this.listeners.push(listener);
  }

  // Newest first: ids are dense in order of first appearance, like the server's list.
  sorted(filter = {}) {
    return [...this.rows.values()].filter((row) => matches(row, filter)).sort((a, b) => b.id - a.id);
  }
}

export function normalizeNumber(text) {
  return text.replace(/[^\d+]/g, '');
}

function matches(row, { status, outcome, number }) {
  if (status && row.status !== status) return false;
  if (outcome && row.outcome !== outcome) return false;
  if (number && !(row.to || '').includes(number)) return false;
  return true;
}

const PAGE = 100;

export class CallsTable {
  constructor({ store, body, emptyState, countLabel, moreButton, onOpen }) {
    this.store = store;
    this.body = body;
    this.emptyState = emptyState;
    this.countLabel = countLabel;
    this.moreButton = moreButton;
    this.onOpen = onOpen;
    this.filter = { status: '', outcome: '', number: '' };
    this.cursor = null;
    this.rendered = new Map(); // id -> {lastSeq, tr}
    this.pending = false;
    this.justChanged = new Set(); // ids changed live since the last render: their new row flashes once
    this.loading = 0;
    store.onChange((row, live) => {
      if (live) this.justChanged.add(row.id);
      this.scheduleRender();
    });
    moreButton.addEventListener('click', () => this.loadOlder());
  }

  // Fetches the newest page for the current filter from the Call view and merges it in.
  async load() {
    const ticket = ++this.loading;
    const page = await api.get('/api/calls' + query({ ...this.serverFilter(), limit: PAGE }));
    if (ticket !== this.loading) return;
    for (const row of page.data) this.store.upsert(row);
    this.cursor = olderPage(page);
    this.scheduleRender();
  }

  async loadOlder() {
    if (!this.cursor) return;
    this.moreButton.disabled = true;
    try {
      const page = await api.get('/api/calls' + query({ ...this.serverFilter(), cursor: this.cursor, limit: PAGE }));
      for (const row of page.data) this.store.upsert(row);
      this.cursor = olderPage(page);
    } finally {
      this.moreButton.disabled = false;
      this.scheduleRender();
    }
  }

  serverFilter() {
    return { status: this.filter.status, outcome: this.filter.outcome, to: this.filter.number };
  }

  setFilter(filter) {
    this.filter = { ...this.filter, ...filter };
    this.scheduleRender();
    return this.load();
  }

  scheduleRender() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const rows = this.store.sorted(this.filter);
    const trs = rows.map((row) => {
      const cached = this.rendered.get(row.id);
      if (cached && cached.lastSeq === row.lastSeq) return cached.tr;
      const tr = this.rowElement(row);
      if (this.justChanged.has(row.id)) tr.classList.add('flash');
      this.rendered.set(row.id, { lastSeq: row.lastSeq, tr });
      return tr;
    });
    this.justChanged.clear();
    this.body.replaceChildren(...trs);
    const filtered = this.filter.status || this.filter.outcome || this.filter.number;
    this.emptyState.hidden = rows.length > 0;
    clear(this.emptyState).append(
      filtered
        ? el('p', {}, el('strong', {}, 'No calls match these filters.'), ' Clear the filters to see every call.')
        : el('p', {}, el('strong', {}, 'No calls yet.'), ' Start a call or a batch above; it shows up here live.'),
    );
    this.countLabel.textContent = `${rows.length} call${rows.length === 1 ? '' : 's'}`;
    this.moreButton.hidden = !this.cursor;
  }

  rowElement(row) {
    const open = () => this.onOpen(row.id);
    const tr = el(
      'tr',
      {
        class: 'call-row',
        tabindex: 0,
        dataset: { callId: row.id, status: row.status || '', outcome: row.outcome || '' },
        onclick: open,
        onkeydown: (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), open()),
      },
      el('td', { 'data-label': 'Number', class: 'number' }, row.to || 'Unknown number',
        // With several Twilio accounts, the one the call went through (the Node app's region).
        row.region ? el('span', { class: 'region dim', title: `Twilio account: ${row.account || row.region}` }, ` ${row.region}`) : null),
      el('td', { 'data-label': 'Status' }, badge(statusLabel(row.status), tone(row.status), 'status')),
      el('td', { 'data-label': 'Outcome' }, row.outcome ? badge(outcomeLabel(row.outcome), tone(row.outcome), 'outcome') : el('span', { class: 'dim' }, '—')),
      el('td', { 'data-label': 'Duration', class: 'num' }, duration(row.duration) || '—'),
      el('td', { 'data-label': 'Digits', class: 'digits' }, row.dtmfDigits || '—'),
      el('td', { 'data-label': 'Last update', class: 'time' }, el('time', { datetime: row.updatedAt }, when(rowTime(row, 'updated')))),
    );
    return tr;
  }
}

// The cursor of the next older page, or null when this page was the last one.
function olderPage(page) {
  return page.data.length > 0 && page.nextCursor ? page.nextCursor : null;
}

export function badge(text, toneName, kind) {
  return el('span', { class: `badge tone-${toneName}`, dataset: { kind } }, text);
}
