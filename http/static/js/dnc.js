// The do-not-call list: GET /api/dnc, add a number (PUT /api/dnc/{phone}), remove one (DELETE), both for
// admins. A campaign skips a listed number at its turn ("on the do-not-call list"). The list is read again
// when the log says it changed (stream "dnc", or a callee pressing 9 to opt out).

import { api } from './api.js';
import { el, clear } from './dom.js';
import { when } from './format.js';

const SHOWN = 200;

export class DncPanel {
  constructor({ root }) {
    this.root = root;
    this.form = root.querySelector('form');
    this.input = root.querySelector('input[name="phone"]');
    this.message = root.querySelector('.dnc-message');
    this.body = root.querySelector('tbody');
    this.empty = root.querySelector('.dnc-empty');
    this.count = root.querySelector('.dnc-count');
    this.visible = false;
    this.stale = true;
    this.timer = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.add();
    });
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible && this.stale) this.load();
  }

  apply(event) {
    if (event.stream !== 'dnc' && event.type !== 'OptOutRequested') return;
    this.stale = true;
    if (!this.visible || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, 300);
  }

  async load() {
    if (!this.visible) return;
    this.stale = false;
    try {
      const reply = await api.get('/api/dnc');
      this.render(reply.data || []);
    } catch (error) {
      this.say('error', `The do-not-call list could not be read: ${error.detail || error.message}`);
    }
  }

  render(list) {
    const sorted = [...list].sort((a, b) => (b.since || 0) - (a.since || 0));
    clear(this.body).append(...sorted.slice(0, SHOWN).map((entry) => el('tr', { dataset: { phone: entry.phone } },
      el('td', { class: 'number', 'data-label': 'Number' }, entry.phone),
      el('td', { class: 'time', 'data-label': 'Since' }, when(entry.since)),
      el('td', { 'data-label': 'By' }, [entry.by, entry.source].filter(Boolean).join(' · ')),
      el('td', { 'data-label': '' }, el('button', { type: 'button', class: 'secondary small dnc-remove',
        'aria-label': `Remove ${entry.phone} from the do-not-call list`, onclick: (e) => this.remove(entry.phone, e.currentTarget) }, 'Remove')))));
    this.empty.hidden = list.length > 0;
    this.count.textContent = list.length ? String(list.length) : '';
  }

  async add() {
    const phone = this.input.value.trim();
    if (!phone) return this.say('error', 'Type the number to stop calling.');
    const button = this.form.querySelector('button');
    button.disabled = true;
    try {
      const reply = await api.put(`/api/dnc/${encodeURIComponent(phone)}`);
      const listed = reply.data?.phone || phone;
      this.say('ok', reply.data?.changed === false ? `${listed} was already on the list.` : `${listed} will not be called.`);
      this.input.value = '';
      this.input.removeAttribute('aria-invalid');
      await this.load();
    } catch (error) {
      if (error.status === 400) this.input.setAttribute('aria-invalid', 'true');
      this.say('error', refusal(error));
    } finally {
      button.disabled = false;
    }
  }

  async remove(phone, button) {
    button.disabled = true;
    try {
      await api.delete(`/api/dnc/${encodeURIComponent(phone)}`);
      this.say('ok', `${phone} may be called again.`);
      await this.load();
      this.input.focus();
    } catch (error) {
      button.disabled = false;
      this.say('error', refusal(error));
    }
  }

  say(kind, text) {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }
}

function refusal(error) {
  if (error.status === 403) return 'Changing the do-not-call list needs an admin token.';
  return error.detail || error.message;
}
