// One campaign's contacts, a page at a time (GET /api/campaigns/{id}/contacts?state=&after=&limit=): each
// contact's state, why it waits (outside its calling window, the number in another call, a retry due, on
// the do-not-call list, ...) and when it is next tried, its attempts and last result. Filter by state; the
// pages go forward with the server's nextAfter and back along the ones seen. The campaign card calls
// refresh() when the campaign changes, and the page on screen is read again.

import { api, query } from './api.js';
import { el, clear } from './dom.js';
import { CONTACT_STATES, FINAL_CONTACT_STATES, contactStateLabel, contactStateTone, fromNow, outcomeLabel, statusLabel, waitReason, when } from './format.js';

export const CONTACTS_PAGE = 25;

let instances = 0;

export class ContactsTable {
  constructor(campaignId) {
    this.id = campaignId;
    this.state = '';
    this.pages = [0];  // the `after` of each page up to the one shown
    this.nextAfter = null;
    this.loaded = false;
    this.asked = 0;
    this.campaignState = '';  // set by the card: a contact of a cancelled campaign waits for nothing
    const n = ++instances;
    this.select = el('select', { id: `contacts-state-${n}`, class: 'contacts-state', onchange: () => this.setState(this.select.value) },
      el('option', { value: '' }, 'All states'),
      CONTACT_STATES.map((s) => el('option', { value: s.key }, s.label)));
    this.prevButton = el('button', { type: 'button', class: 'secondary contacts-prev', onclick: () => this.go(-1) }, 'Previous');
    this.nextButton = el('button', { type: 'button', class: 'secondary contacts-next', onclick: () => this.go(1) }, 'Next');
    this.pageLabel = el('span', { class: 'dim contacts-page', 'aria-live': 'polite' });
    this.body = el('tbody');
    this.empty = el('p', { class: 'empty contacts-empty', hidden: true });
    this.error = el('p', { class: 'message', dataset: { kind: 'error' }, role: 'alert', hidden: true });
    this.node = el('details', { class: 'campaign-contacts', ontoggle: () => this.node.open && this.refresh() },
      el('summary', {}, 'Contacts'),
      el('div', { class: 'contacts-tools' },
        el('label', { for: `contacts-state-${n}` }, 'Show'), this.select,
        el('div', { class: 'pager' }, this.prevButton, this.pageLabel, this.nextButton)),
      this.error,
      el('div', { class: 'table-scroll' },
        el('table', { class: 'calls contacts' },
          el('caption', { class: 'visually-hidden' }, 'Contacts of the campaign'),
          el('thead', {}, el('tr', {}, ['#', 'Phone', 'Name', 'State', 'Why it waits', 'Next try', 'Attempts', 'Last result']
            .map((h) => el('th', { scope: 'col' }, h)))),
          this.body)),
      this.empty);
  }

  get after() {
    return this.pages[this.pages.length - 1];
  }

  setState(state) {
    this.state = state;
    this.pages = [0];
    this.refresh();
  }

  go(step) {
    if (step > 0 && this.nextAfter !== null) this.pages.push(this.nextAfter);
    else if (step < 0 && this.pages.length > 1) this.pages.pop();
    else return;
    this.refresh();
  }

  // Reads the page on screen again (only while the contacts are open).
  async refresh() {
    if (!this.node.open) return;
    const asked = ++this.asked;
    try {
      const reply = await api.get(`/api/campaigns/${encodeURIComponent(this.id)}/contacts` +
        query({ state: this.state, after: this.after || '', limit: CONTACTS_PAGE }));
      if (asked !== this.asked) return;
      this.error.hidden = true;
      this.render(reply.data?.contacts || [], reply.data?.nextAfter ?? null);
    } catch (error) {
      if (asked !== this.asked) return;
      this.error.textContent = `The contacts could not be read: ${error.detail || error.message}`;
      this.error.hidden = false;
    }
  }

  render(contacts, nextAfter) {
    this.loaded = true;
    this.nextAfter = nextAfter;
    const now = Date.now();
    clear(this.body).append(...contacts.map((c) => contactRow(c, now, this.campaignState)));
    this.node.dataset.loaded = 'true';
    this.empty.hidden = contacts.length > 0;
    this.empty.textContent = this.state ? `No contact is ${contactStateLabel(this.state).toLowerCase()}.` : 'No contacts.';
    this.prevButton.disabled = this.pages.length <= 1;
    this.nextButton.disabled = nextAfter === null;
    const first = (this.pages.length - 1) * CONTACTS_PAGE;
    this.pageLabel.textContent = contacts.length ? `${first + 1}–${first + contacts.length}` : '';
  }
}

function contactRow(c, now, campaignState) {
  const over = campaignState === 'cancelled' || campaignState === 'completed';
  const waiting = !over && !FINAL_CONTACT_STATES.has(c.state) && c.state !== 'in_flight';
  let why = waitReason(c.reason);
  if (!why && c.state === 'pending') why = 'waiting its turn';
  if (over && !FINAL_CONTACT_STATES.has(c.state) && c.state !== 'in_flight') why = `not called: the campaign is ${campaignState}`;
  const next = waiting && c.nextAt ? el('time', { datetime: new Date(c.nextAt).toISOString() }, `${when(c.nextAt)} (${fromNow(c.nextAt, now)})`) : null;
  const result = c.outcome ? outcomeLabel(c.outcome) : c.lastStatus ? statusLabel(c.lastStatus) : '';
  const call = c.executionSid
    ? el('a', { href: `#call=${encodeURIComponent(c.executionSid)}`, title: 'The call\'s audit trail' },
      result || (c.state === 'in_flight' ? 'Call under way' : 'Call'))
    : result;
  return el('tr', { class: 'contact-row', dataset: { index: c.index, state: c.state, phone: c.phone } },
    el('td', { class: 'num', 'data-label': '#' }, String(c.index + 1)),
    el('td', { class: 'number', 'data-label': 'Phone' }, c.phone),
    el('td', { 'data-label': 'Name' }, c.fields?.name || ''),
    el('td', { 'data-label': 'State' }, el('span', { class: `badge tone-${contactStateTone(c.state)}` }, contactStateLabel(c.state))),
    el('td', { class: 'reason', 'data-label': 'Why it waits', dataset: { reason: c.reason || '' } }, why),
    el('td', { class: 'next-at time', 'data-label': 'Next try', dataset: { at: waiting && c.nextAt ? c.nextAt : '' } }, next),
    el('td', { class: 'num', 'data-label': 'Attempts' }, String(c.attempts ?? 0)),
    el('td', { class: 'result', 'data-label': 'Last result' },
      el('span', {}, call, c.digits ? el('span', { class: 'digits dim', title: 'Keys pressed' }, ` ${c.digits}`) : null)));
}
