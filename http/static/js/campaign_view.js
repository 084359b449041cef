// The campaigns, newest first (GET /api/campaigns), one card each: its state, a count per contact state,
// a progress bar (contacts in a final state / contacts), when it next calls, Pause / Resume / Cancel as
// its state allows, the CSV export, and its contacts (campaign_contacts.js). Every log event of a
// campaign's stream (campaign-<id>) has that campaign read again (GET /api/campaigns/{id}), at most every
// 500 ms; an event of a campaign not shown yet reads the list again. While the view is hidden nothing is
// read: it is read afresh when shown.

import { api, token } from './api.js';
import { el } from './dom.js';
import { CONTACT_STATES, FINAL_CONTACT_STATES, campaignStateLabel, campaignStateTone, contactStateTone, fromNow, when } from './format.js';
import { ContactsTable } from './campaign_contacts.js';
import { policyText, plural } from './campaign_form.js';

const REFRESH_MS = 500;
const SHOWN_STEP = 20;
const OVER = new Set(['cancelled', 'completed']);

// Runs `fn` now, then at most once per `ms` however often it is asked for (the last ask is never lost).
function throttled(fn, ms) {
  let timer = null;
  let again = false;
  const run = () => {
    timer = setTimeout(() => {
      timer = null;
      if (again) {
        again = false;
        fn();
        run();
      }
    }, ms);
  };
  return () => {
    if (timer) {
      again = true;
      return;
    }
    fn();
    run();
  };
}

export class CampaignList {
  constructor({ root, empty, count, more, onFailure }) {
    this.root = root;
    this.emptyState = empty;
    this.countLabel = count;
    this.moreButton = more;
    this.onFailure = onFailure;
    this.cards = new Map();
    this.order = [];
    this.shown = SHOWN_STEP;
    this.visible = false;
    this.stale = true;
    this.reloadSoon = throttled(() => this.load().catch(onFailure), REFRESH_MS);
    more.addEventListener('click', () => {
      this.shown += SHOWN_STEP;
      this.place();
    });
    setInterval(() => this.visible && this.cards.forEach((card) => card.renderSummary()), 30000);
  }

  setVisible(visible) {
    this.visible = visible;
    if (visible && this.stale) this.reloadSoon();
  }

  async load() {
    if (!this.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const reply = await api.get('/api/campaigns');
    const list = reply.data || [];
    this.order = list.map((c) => c.id);
    for (const c of list) {
      const card = this.cards.get(c.id);
      if (card) {
        card.update(c);
      } else {
        this.cards.set(c.id, new CampaignCard(c));
      }
    }
    this.place();
    this.root.dataset.loaded = 'true';
    // The list does not say when each campaign calls next: a read of each live one does.
    for (const id of this.order.slice(0, this.shown)) {
      const card = this.cards.get(id);
      if (!OVER.has(card.campaign.state) || card.contacts.node.open) card.refreshSoon();
    }
  }

  // Puts the first `shown` cards in order, moving only those out of place (a focused button stays put).
  place() {
    const shown = this.order.slice(0, this.shown).map((id) => this.cards.get(id).node);
    shown.forEach((node, i) => {
      if (this.root.children[i] !== node) this.root.insertBefore(node, this.root.children[i] || null);
    });
    while (this.root.children.length > shown.length) this.root.lastElementChild.remove();
    this.emptyState.hidden = this.order.length > 0;
    this.countLabel.textContent = this.order.length ? String(this.order.length) : '';
    this.moreButton.hidden = this.order.length <= this.shown;
    this.moreButton.textContent = `Show ${Math.min(SHOWN_STEP, this.order.length - this.shown)} older campaigns`;
  }

  // A live event: its campaign is read again (or the list, for a campaign not known yet).
  apply(event) {
    const stream = event.stream || '';
    if (!stream.startsWith('campaign-')) return;
    if (!this.visible) {
      this.stale = true;
      return;
    }
    const card = this.cards.get(stream.slice('campaign-'.length));
    if (card && event.type !== 'CampaignCreated') card.refreshSoon();
    else this.reloadSoon();
  }

  // After a campaign is created from this page: show it, and move the focus to it.
  async reveal(id) {
    await this.load();
    const card = this.cards.get(id);
    if (!card) return;
    card.node.scrollIntoView({ block: 'nearest' });
    card.heading.focus({ preventScroll: true });
  }
}

let cards = 0;

class CampaignCard {
  constructor(campaign) {
    this.campaign = campaign;
    this.nextActionAt = null;
    this.refreshSoon = throttled(() => this.refresh(), REFRESH_MS);
    this.contacts = new ContactsTable(campaign.id);
    const n = ++cards;
    const headingId = `campaign-title-${n}`;
    this.heading = el('h3', { id: headingId, tabindex: '-1' });
    this.stateBadge = el('span', { class: 'badge campaign-state' });
    this.meta = el('span', { class: 'dim campaign-meta' });
    this.percent = el('span', { class: 'campaign-percent' });
    this.reason = el('p', { class: 'campaign-reason message', dataset: { kind: 'error' }, hidden: true });
    this.fill = el('div', { class: 'progress-fill' });
    this.progress = el('div', { class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-labelledby': headingId }, this.fill);
    this.summary = el('p', { class: 'campaign-summary', role: 'status', 'aria-live': 'polite' });
    this.policy = el('p', { class: 'dim campaign-policy' });
    this.counts = new Map(CONTACT_STATES.map((s) => [s.key, el('span', { class: 'count-value' })]));
    const countList = el('ul', { class: 'state-counts', 'aria-label': 'Contacts by state' },
      CONTACT_STATES.map((s) => el('li', { class: `state-count tone-${s.tone}`, dataset: { state: s.key } },
        el('span', { class: 'count-label' }, s.label), ' ', this.counts.get(s.key))));
    this.countItems = countList;
    this.pauseButton = el('button', { type: 'button', class: 'secondary campaign-pause', onclick: () => this.control('pause') }, 'Pause');
    this.resumeButton = el('button', { type: 'button', class: 'primary campaign-resume', onclick: () => this.control('resume') }, 'Resume');
    this.cancelButton = el('button', { type: 'button', class: 'secondary danger campaign-cancel', onclick: () => this.askCancel(true) }, 'Cancel…');
    this.confirmYes = el('button', { type: 'button', class: 'danger-solid campaign-cancel-yes', onclick: () => this.control('cancel') }, 'Yes, cancel it');
    this.confirmNo = el('button', { type: 'button', class: 'secondary campaign-cancel-no', onclick: () => this.askCancel(false) }, 'Keep it');
    this.confirm = el('div', { class: 'campaign-confirm', role: 'group', 'aria-label': 'Confirm cancelling', hidden: true },
      el('span', {}, 'Cancel this campaign? Contacts not called yet will not be called.'), this.confirmYes, this.confirmNo);
    this.exportLink = el('a', { class: 'button-link campaign-export', href: `/api/campaigns/${encodeURIComponent(campaign.id)}/export.csv`,
      download: `campaign-${campaign.id}.csv`, onclick: (e) => this.exportCsv(e) }, 'Export CSV');
    this.message = el('p', { class: 'message card-message', 'aria-live': 'polite', hidden: true });
    this.node = el('article', { class: 'campaign', 'aria-labelledby': headingId, dataset: { campaignId: campaign.id } },
      el('header', { class: 'campaign-head' }, this.heading, this.stateBadge, this.meta, this.percent),
      this.reason, this.progress, this.summary, countList,
      el('div', { class: 'campaign-actions' }, this.pauseButton, this.resumeButton, this.cancelButton, this.exportLink),
      this.confirm, this.message, this.policy, this.contacts.node);
    this.update(campaign);
  }

  async refresh() {
    try {
      const reply = await api.get(`/api/campaigns/${encodeURIComponent(this.campaign.id)}`);
      this.update(reply.data);
    } catch (error) {
      this.say('error', `Could not read the campaign: ${error.detail || error.message}`);
    }
    this.contacts.refresh();
  }

  // Shows `c` unless it is older than what is on screen (answers may cross).
  update(c) {
    if (!c || (this.campaign.lastSeq > c.lastSeq)) return;
    if ('nextActionAt' in c) this.nextActionAt = c.nextActionAt;
    this.campaign = { ...this.campaign, ...c };
    c = this.campaign;
    const name = c.name || `Campaign ${c.id.slice(0, 12)}`;
    this.heading.textContent = name;
    this.stateBadge.textContent = campaignStateLabel(c.state);
    this.stateBadge.className = `badge campaign-state tone-${campaignStateTone(c.state)}`;
    const source = { csv: 'CSV', api: 'API', 'start-bulk': 'call list' }[c.source] || c.source;
    this.meta.textContent = `${source}${c.by ? ` · by ${c.by}` : ''} · created ${when(c.createdAt)}${c.rejected ? ` · ${c.rejected} rows rejected` : ''}`;
    const done = this.done();
    const percent = c.contacts ? Math.floor((done / c.contacts) * 100) : 100;
    this.percent.textContent = `${percent}%`;
    this.fill.style.width = `${percent}%`;
    this.progress.setAttribute('aria-valuenow', String(percent));
    this.progress.setAttribute('aria-valuetext', `${done} of ${c.contacts} contacts done`);
    for (const [state, node] of this.counts) {
      const value = c.counts?.[state] ?? 0;
      node.textContent = String(value);
      node.parentElement?.classList.toggle('zero', value === 0);
    }
    this.reason.textContent = c.state === 'paused' && c.reason ? `Paused by the server: ${c.reason}` : '';
    this.reason.hidden = !this.reason.textContent;
    this.policy.textContent = policyText(c.policy);
    const over = OVER.has(c.state);
    this.contacts.campaignState = c.state;
    this.pauseButton.hidden = !(c.state === 'running' || c.state === 'scheduled');
    this.resumeButton.hidden = c.state !== 'paused';
    this.cancelButton.hidden = over;
    if (over) this.askCancel(false, false);
    for (const [button, verb] of [[this.pauseButton, 'Pause'], [this.resumeButton, 'Resume'], [this.cancelButton, 'Cancel']]) {
      button.setAttribute('aria-label', `${verb} campaign ${name}`);
    }
    this.exportLink.setAttribute('aria-label', `Export campaign ${name} as CSV`);
    Object.assign(this.node.dataset, { state: c.state, percent, done });
    this.node.classList.toggle('over', over);
    this.renderSummary();
  }

  done() {
    let done = 0;
    for (const state of FINAL_CONTACT_STATES) done += this.campaign.counts?.[state] ?? 0;
    return done;
  }

  renderSummary() {
    const c = this.campaign;
    const parts = [`${this.done()} of ${plural(c.contacts ?? 0, 'contact')} done`];
    const inCall = c.counts?.in_flight ?? 0;
    if (inCall) parts.push(`${inCall} in a call`);
    const next = this.nextActionAt;
    if (c.state === 'completed') parts.push(`completed ${when(c.finishedAt)}`);
    else if (c.state === 'cancelled') parts.push(`cancelled ${when(c.finishedAt)}`);
    else if (c.state === 'paused') parts.push('paused: nobody is called until it is resumed');
    else if (next) parts.push(`${c.state === 'scheduled' ? 'starts' : 'next call'} ${next <= Date.now() + 1000 ? 'now' : `at ${when(next)} (${fromNow(next)})`}`);
    this.summary.textContent = parts.join(' · ');
    this.summary.dataset.nextAt = !OVER.has(c.state) && c.state !== 'paused' && next ? next : '';
  }

  askCancel(ask, focus = true) {
    this.confirm.hidden = !ask;
    this.cancelButton.setAttribute('aria-expanded', String(ask));
    if (focus) (ask ? this.confirmYes : this.cancelButton).focus();
  }

  async control(what) {
    const buttons = [this.pauseButton, this.resumeButton, this.cancelButton, this.confirmYes];
    buttons.forEach((b) => (b.disabled = true));
    try {
      const reply = await api.post(`/api/campaigns/${encodeURIComponent(this.campaign.id)}/${what}`);
      this.update(reply.data);
      this.say('ok', reply.message || `Campaign ${what}d`);
      if (what === 'cancel') this.askCancel(false, false);
      this.refreshSoon();
    } catch (error) {
      this.say('error', `${what[0].toUpperCase()}${what.slice(1)} refused: ${error.detail || error.message}`);
      this.refreshSoon();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      const next = [this.campaign.state === 'paused' ? this.resumeButton : this.pauseButton, this.cancelButton].find((b) => !b.hidden);
      (next || this.heading).focus();
    }
  }

  // With a token the link alone would be refused (a link cannot send it): fetch the file, save the Blob.
  async exportCsv(event) {
    if (!token()) return;
    event.preventDefault();
    try {
      const blob = await api.blob(this.exportLink.getAttribute('href'));
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: this.exportLink.getAttribute('download'), hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (error) {
      this.say('error', error.status === 403
        ? 'Exporting needs an admin token.'
        : `Export failed: ${error.detail || error.message}`);
    }
  }

  say(kind, text) {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }
}
