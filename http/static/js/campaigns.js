// Starting calls: the single-call form, the batch form (pasted numbers or a CSV file), and a progress bar
// per batch. Progress is read from the log over /ws: CampaignCreated gives the total, ContactsRejected the
// numbers refused at once, each ExecutionCreated or ExecutionRejected carrying the batch (campaign) id is one
// number dealt with, BatchDialled is 100%, and
// CampaignPaused/CampaignResumed flip the batch's Pause/Resume button. The
// server's own words are shown when it refuses (invalid number, number already in a call, ...).

import { api } from './api.js';
import { el, clear } from './dom.js';
import { when } from './format.js';

const MAX_SHOWN_BATCHES = 5;

export class CallStarter {
  constructor({ form, input, message }) {
    this.input = input;
    this.message = message;
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.start(form);
    });
    input.addEventListener('input', () => showMessage(message, '', ''));
  }

  async start(form) {
    const to = this.input.value.trim();
    if (!to) return showMessage(this.message, 'error', 'Type a phone number, e.g. +447700900123.');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    showMessage(this.message, 'pending', `Calling ${to}…`);
    try {
      const reply = await api.post('/api/calls/start', { to });
      const sid = reply.data?.execution_sid;
      showMessage(this.message, 'ok', `${reply.message || 'Call started'}${sid ? ` (${sid})` : ''}`);
      this.input.value = '';
    } catch (error) {
      this.input.setAttribute('aria-invalid', 'true');
      showMessage(this.message, 'error', refusal(error));
    } finally {
      button.disabled = false;
    }
  }
}

export class BatchStarter {
  constructor({ form, textarea, file, message, preview, tracker }) {
    this.textarea = textarea;
    this.message = message;
    this.preview = preview;
    this.tracker = tracker;
    textarea.addEventListener('input', () => this.showPreview());
    file.addEventListener('change', async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      const numbers = numbersFromCsv(await chosen.text());
      textarea.value = numbers.join('\n');
      this.showPreview(`${chosen.name}: `);
      file.value = '';
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.start(form);
    });
  }

  showPreview(prefix = '') {
    const n = splitNumbers(this.textarea.value).length;
    this.preview.textContent = n ? `${prefix}${n} number${n === 1 ? '' : 's'} ready` : '';
    showMessage(this.message, '', '');
  }

  async start(form) {
    const phoneNumbers = splitNumbers(this.textarea.value);
    if (!phoneNumbers.length) return showMessage(this.message, 'error', 'Paste at least one number, or choose a CSV file.');
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    showMessage(this.message, 'pending', `Starting ${phoneNumbers.length} calls…`);
    try {
      const reply = await api.post('/api/calls/start-bulk', { phoneNumbers });
      const d = reply.data || {};
      if (d.batchId) this.tracker.announce(d.batchId, d.total ?? phoneNumbers.length);
      showMessage(this.message, 'ok', reply.message || `Batch started: ${d.initiated ?? 0} of ${d.total ?? phoneNumbers.length} calls initiated.`);
      this.textarea.value = '';
      this.preview.textContent = '';
    } catch (error) {
      showMessage(this.message, 'error', refusal(error));
    } finally {
      button.disabled = false;
    }
  }
}

// Batches seen on this page, newest first, each with a progress bar.
export class BatchTracker {
  constructor({ root, store }) {
    this.root = root;
    this.store = store;
    this.batches = new Map();
    store.onChange((row) => row.batchId && this.batches.has(row.batchId) && this.render());
  }

  batch(id) {
    if (!this.batches.has(id)) {
      this.batches.set(id, { id, total: 0, created: 0, rejected: 0, done: false, paused: false, errors: [], startedMs: Date.now() });
    }
    return this.batches.get(id);
  }

  // The start-bulk reply may come before or after CampaignCreated on /ws.
  announce(id, total) {
    const b = this.batch(id);
    if (!b.total) b.total = total;
    this.render();
  }

  // Folds one log event; returns whether it concerned a batch. A batch is a start-bulk campaign: its events
  // live in stream campaign-<id>, its calls' events carry campaign_id.
  apply(event) {
    const d = event.data || {};
    const stream = event.stream || '';
    const id = d.batch_id || d.campaign_id || (stream.startsWith('campaign-') ? stream.slice(9) : null);
    if (!id) return false;
    if (event.type === 'CampaignCreated' && d.source !== 'start-bulk') return false;
    if (event.type !== 'CampaignCreated' && !this.batches.has(id)) return false;
    const b = this.batch(id);
    switch (event.type) {
      case 'CampaignCreated':
        b.total = d.total_rows ?? d.total ?? (d.numbers || []).length;
        b.startedMs = event.ts;
        if (Array.isArray(d.rejected)) for (const r of d.rejected) this.refuse(b, r.to, r.message);  // before campaigns
        break;
      case 'ContactsRejected':
        // Numbers refused before dialling (invalid, duplicate) come with the batch itself.
        for (const r of d.rows || []) this.refuse(b, r.phone, r.reason);
        break;
      case 'ExecutionCreated':
        b.created += 1;
        break;
      case 'ExecutionRejected':
        this.refuse(b, d.to, d.message || d.code);
        break;
      case 'CampaignPaused':
        b.paused = true;
        break;
      case 'CampaignResumed':
        b.paused = false;
        break;
      case 'BatchDialled':
      case 'CampaignCompleted':
      case 'CampaignCancelled':
        b.done = true;
        b.paused = false;
        if (typeof d.total === 'number') b.total = d.total;
        break;
      default:
        return false;
    }
    this.render();
    return true;
  }

  // Asks the server to pause or resume; the page changes when CampaignPaused/CampaignResumed arrive.
  async toggle(b, button) {
    button.disabled = true;
    try {
      await api.post(`/api/campaigns/${encodeURIComponent(b.id)}/${b.paused ? 'resume' : 'pause'}`);
    } catch (error) {
      b.errors.push(`${b.paused ? 'resume' : 'pause'}: ${refusal(error)}`);
      this.render();
    } finally {
      button.disabled = false;
    }
  }

  refuse(b, to, why) {
    b.rejected += 1;
    b.errors.push(`${to || 'number'}: ${why || 'refused'}`);
  }

  render() {
    const batches = [...this.batches.values()].sort((a, b) => b.startedMs - a.startedMs).slice(0, MAX_SHOWN_BATCHES);
    clear(this.root).append(...batches.map((b) => this.batchElement(b)));
    this.root.hidden = batches.length === 0;
  }

  batchElement(b) {
    const dealt = b.created + b.rejected;
    const percent = b.done ? 100 : b.total ? Math.min(100, Math.floor((dealt / b.total) * 100)) : 0;
    const finished = [...this.store.rows.values()].filter((r) => r.batchId === b.id && r.outcome).length;
    const toggle = b.done ? null : el('button', { type: 'button', class: 'batch-toggle',
      'aria-label': `${b.paused ? 'Resume' : 'Pause'} batch ${b.id}`,
      onclick: (e) => this.toggle(b, e.currentTarget) }, b.paused ? 'Resume' : 'Pause');
    return el('div', { class: `batch${b.done ? ' done' : ''}${b.paused ? ' paused' : ''}`, dataset: { batchId: b.id, percent, paused: b.paused } },
      el('div', { class: 'batch-head' },
        el('strong', {}, `Batch ${b.id.slice(0, 12)}`),
        el('span', { class: 'dim' }, when(b.startedMs)),
        el('span', { class: 'batch-percent' }, `${percent}%`),
        toggle),
      el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': percent,
        'aria-label': `Batch ${b.id} progress` },
        el('div', { class: 'progress-fill', style: `width:${percent}%` })),
      el('p', { class: 'batch-counts dim' },
        `${b.created} dialled · ${b.rejected} refused · ${b.total || '?'} in total · ${finished} with an outcome${b.done ? ' · complete' : ''}${b.paused ? ' · paused' : ''}`),
      b.errors.length ? el('details', { class: 'batch-errors' }, el('summary', {}, `${b.errors.length} refused`),
        el('ul', {}, b.errors.slice(0, 50).map((e) => el('li', {}, e)))) : null);
  }
}

function refusal(error) {
  if (error.status === 404) return 'This server cannot start calls (no start route).';
  if (error.status === 409) return `Refused: ${error.detail || 'this number already has a call in progress.'}`;
  if (error.status >= 500 || !error.status) return `The server failed: ${error.message}`;
  return error.detail || error.message;
}

function showMessage(node, kind, text) {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
}

export function splitNumbers(text) {
  return [...new Set(text.split(/[\n,;\t]+/).map((s) => s.trim()).filter(Boolean))];
}

// A CSV's phone numbers: the column named like phone/number/to when there is a header, else every cell
// that looks like a number (at least 6 digits).
export function numbersFromCsv(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const cells = lines.map((l) => l.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, '')));
  if (!cells.length) return [];
  const header = cells[0].map((c) => c.toLowerCase());
  const column = header.findIndex((h) => /^(phone|phone ?number|phonenumber|number|to|mobile|tel)$/.test(h));
  const looksLikeNumber = (c) => (c.match(/\d/g) || []).length >= 6;
  const picked = column >= 0
    ? cells.slice(1).map((row) => row[column] || '')
    : cells.flat();
  return [...new Set(picked.filter(looksLikeNumber))];
}
