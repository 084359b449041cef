// A new campaign from a CSV file: the options (name, calling window, retries, start time, pace) become the
// query string of POST /api/campaigns, the file its text/csv body. Choosing a file, or changing an option
// once a file is chosen, asks the server for a dry run (?dry_run=1), whose answer is shown before anything
// starts: the rows it will call (the first 50) and the rows it refused, each with the reason. "Start
// campaign" then sends exactly the file and options of the preview on screen, without dry_run.

import { api, query } from './api.js';
import { el, clear } from './dom.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const SHOWN_REJECTED = 200;

export class CampaignForm {
  constructor({ form, onCreated }) {
    this.form = form;
    this.onCreated = onCreated;
    this.field = (name) => form.querySelector(`[name="${name}"]`);
    this.message = form.querySelector('.campaign-message');
    this.previewBox = form.querySelector('.campaign-preview');
    this.startButton = form.querySelector('.campaign-start');
    this.file = this.field('file');
    this.csv = null;       // the chosen file's text
    this.fileName = '';
    this.previewed = null; // {csv, options} of the preview on screen, when it can be started
    this.asked = 0;        // the latest dry run asked for; older answers are dropped
    this.timer = null;

    this.file.addEventListener('change', () => this.readFile());
    form.addEventListener('input', (e) => e.target !== this.file && this.optionsChanged());
    form.addEventListener('change', (e) => e.target !== this.file && this.optionsChanged());
    // Enter in a field previews; only the Start button places calls.
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.preview();
    });
    this.startButton.addEventListener('click', () => this.start());
    this.syncRetryFields();
  }

  syncRetryFields() {
    const once = Number(this.field('max_attempts').value || 1) <= 1;
    for (const input of this.form.querySelectorAll('.retry-detail input')) input.disabled = once;
  }

  async readFile() {
    const chosen = this.file.files?.[0];
    if (!chosen) return;
    this.csv = await chosen.text();
    this.fileName = chosen.name;
    if (!this.field('name').value.trim()) this.field('name').value = chosen.name.replace(/\.[^.]*$/, '');
    this.preview();
  }

  optionsChanged() {
    this.syncRetryFields();
    if (this.csv === null) return;
    // A 'change' after its 'input' (on blur, e.g. when Start is clicked) changes nothing new.
    if (this.previewed && this.sameOptions(this.previewed.options)) return;
    this.setStartable(null);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.preview(), 350);
  }

  sameOptions(options) {
    try {
      return JSON.stringify(this.options()) === JSON.stringify(options);
    } catch {
      return false;
    }
  }

  // The query options from the form; throws an Error with a message for the user when one is wrong.
  options() {
    const value = (name) => this.field(name).value.trim();
    const options = { name: value('name') };
    const from = value('window_from');
    const to = value('window_to');
    if (from || to) {
      if (!from || !to) throw new Error('Give both ends of the calling window, or neither.');
      options.window = `${from}-${to}`;
      const days = WEEKDAYS.filter((d) => this.form.querySelector(`input[name="day"][value="${d}"]`).checked);
      if (!days.length) throw new Error('Choose at least one weekday for the calling window.');
      if (days.length < 7) options.days = days.join(',');
    }
    const attempts = Number(value('max_attempts') || 1);
    if (attempts > 1) {
      options.max_attempts = attempts;
      const minutes = Number(value('retry_minutes') || 0);
      if (minutes > 0) options.retry_spacing_s = Math.max(1, Math.round(minutes * 60));
      const on = [...this.form.querySelectorAll('input[name="retry_on"]:checked')].map((i) => i.value);
      if (!on.length) throw new Error('Choose when to call again (busy, no answer, ...), or make one attempt.');
      options.retry_on = on.join(',');
    }
    const startAt = value('start_at');
    if (startAt) {
      const at = new Date(startAt);
      if (Number.isNaN(at.getTime())) throw new Error('The start time is not a date and time.');
      options.start_at = at.toISOString();
    }
    if (value('cps')) options.cps = value('cps');
    return options;
  }

  async preview() {
    clearTimeout(this.timer);
    if (this.csv === null) return this.show('error', 'Choose a CSV file with a phone column first.');
    let options;
    try {
      options = this.options();
    } catch (error) {
      this.setStartable(null);
      return this.show('error', error.message);
    }
    const csv = this.csv;
    const asked = ++this.asked;
    this.setStartable(null);
    this.form.setAttribute('aria-busy', 'true');
    this.show('pending', `Checking ${this.fileName}…`);
    try {
      const reply = await api.postRaw('/api/campaigns' + query({ dry_run: 1, ...options }), csv, 'text/csv');
      if (asked !== this.asked) return;
      this.renderPreview(reply.data || {});
      const ready = reply.data?.accepted ?? 0;
      this.show(ready ? 'ok' : 'error', ready
        ? `${this.fileName}: ${plural(ready, 'contact')} ready to call. Check them below, then start.`
        : `${this.fileName}: no row can be called.`);
      this.setStartable(ready ? { csv, options } : null);
    } catch (error) {
      if (asked !== this.asked) return;
      clear(this.previewBox).hidden = true;
      this.show('error', error.detail || error.message);
    } finally {
      if (asked === this.asked) this.form.removeAttribute('aria-busy');
    }
  }

  async start() {
    const chosen = this.previewed;
    if (!chosen) return;
    this.setStartable(null);
    this.show('pending', 'Starting the campaign…');
    try {
      const reply = await api.postRaw('/api/campaigns' + query(chosen.options), chosen.csv, 'text/csv');
      const d = reply.data || {};
      const name = chosen.options.name || d.id;
      this.show('ok', `Campaign “${name}” started: ${plural(d.accepted ?? 0, 'contact')}, ${d.rejected?.length ?? 0} rejected.`);
      this.reset();
      this.onCreated?.(d.id);
    } catch (error) {
      this.setStartable(chosen);
      this.show('error', `Not started: ${error.detail || error.message}`);
    }
  }

  reset() {
    this.csv = null;
    this.fileName = '';
    this.file.value = '';
    this.field('name').value = '';
    clear(this.previewBox).hidden = true;
  }

  setStartable(chosen) {
    this.previewed = chosen;
    this.startButton.disabled = !chosen;
  }

  show(kind, text) {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }

  renderPreview(d) {
    const rejected = d.rejected || [];
    const preview = d.preview || [];
    const box = clear(this.previewBox);
    box.hidden = false;
    box.dataset.accepted = d.accepted ?? 0;
    box.dataset.rejected = rejected.length;
    box.append(
      el('p', { class: 'preview-summary' },
        el('strong', { class: 'preview-ready' }, `${d.accepted ?? 0} ready`), ' · ',
        el('span', { class: rejected.length ? 'preview-rejected error' : 'preview-rejected' }, `${rejected.length} rejected`),
        ` · ${plural(d.totalRows ?? 0, 'row')} in the file`),
      el('p', { class: 'dim preview-policy' }, policyText(d.policy)));
    if (rejected.length) box.append(rejectedTable(rejected));
    if (preview.length) box.append(contactsTable(preview, d.accepted ?? preview.length));
  }
}

function rejectedTable(rejected) {
  const shown = rejected.slice(0, SHOWN_REJECTED);
  return el('div', { class: 'table-scroll' },
    el('table', { class: 'grid-table rejected-rows' },
      el('caption', {}, `Rejected rows${rejected.length > shown.length ? ` (the first ${shown.length} of ${rejected.length})` : ''}: they will not be called`),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Row'), el('th', { scope: 'col' }, 'Phone as given'), el('th', { scope: 'col' }, 'Reason'))),
      el('tbody', {}, shown.map((r) => el('tr', { dataset: { row: r.row } },
        el('td', { class: 'num' }, String(r.row)),
        el('td', { class: 'number' }, r.phone || '(empty)'),
        el('td', { class: 'reason' }, r.reason || ''))))));
}

function contactsTable(preview, accepted) {
  const columns = [];
  for (const row of preview) for (const key of Object.keys(row.fields || {})) if (!columns.includes(key)) columns.push(key);
  return el('div', { class: 'table-scroll' },
    el('table', { class: 'grid-table preview-rows' },
      el('caption', {}, accepted > preview.length ? `Contacts to call (the first ${preview.length} of ${accepted})` : 'Contacts to call'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, '#'), el('th', { scope: 'col' }, 'Phone'), el('th', { scope: 'col' }, 'Time zone'),
        columns.map((c) => el('th', { scope: 'col' }, c)))),
      el('tbody', {}, preview.map((row, i) => el('tr', {},
        el('td', { class: 'num' }, String(i + 1)),
        el('td', { class: 'number' }, row.phone),
        el('td', {}, (row.zones || []).join(', ')),
        columns.map((c) => el('td', {}, row.fields?.[c] ?? '')))))));
}

function hhmm(minutes) {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

// "Calls 09:00–20:00 Mon, Tue in each contact's zone · up to 3 attempts, 30 min apart, on busy, no-answer · ..."
export function policyText(p) {
  if (!p) return '';
  const parts = [];
  if (p.window) {
    const days = p.window.days?.length === 7 ? 'every day' : (p.window.days || []).map((d) => DAY_NAMES[d - 1]).join(', ');
    parts.push(`calls ${hhmm(p.window.from_min)}–${hhmm(p.window.to_min)} ${days}, in each contact's time zone`);
  } else {
    parts.push('calls at any hour');
  }
  parts.push(p.max_attempts > 1
    ? `up to ${p.max_attempts} attempts, ${spacing(p.retry_spacing_s)} apart, again on ${(p.retry_on || []).join(', ')}`
    : 'one attempt per contact');
  parts.push(p.start_at ? `from ${new Date(p.start_at).toLocaleString()}` : 'starting now');
  parts.push(`${p.cps} call${p.cps === 1 ? '' : 's'} a second`);
  const text = parts.join(' · ');
  return text[0].toUpperCase() + text.slice(1);
}

function spacing(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
