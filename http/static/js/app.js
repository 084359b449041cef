// The dashboard's wiring: load the current state over REST, then follow /ws from the view's checkpoint so
// nothing between the two is missed, and hand every live message to the parts that care.

import { api, setTokenPrompt } from './api.js';
import { $ } from './dom.js';
import { LiveFeed } from './live.js';
import { CallStore, CallsTable, normalizeNumber } from './calls.js';
import { CallPanel } from './timeline.js';
import { Summary } from './stats.js';
import { BatchStarter, BatchTracker, CallStarter } from './campaigns.js';
import { CampaignForm } from './campaign_form.js';
import { CampaignList } from './campaign_view.js';
import { DncPanel } from './dnc.js';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

setTokenPrompt(askForToken);

const store = new CallStore();
const panel = new CallPanel({
  root: $('#panel'),
  onClose: () => history.replaceState(null, '', location.pathname + location.search),
});
const table = new CallsTable({
  store,
  body: $('#calls tbody'),
  emptyState: $('#calls-empty'),
  countLabel: $('#calls-count'),
  moreButton: $('#calls-more'),
  onOpen: (id) => {
    location.hash = `call=${id}`;
  },
});
const batches = new BatchTracker({ root: $('#batches'), store });
const summary = new Summary({ cards: $('#cards'), chart: $('#chart'), store });
new CallStarter({ form: $('#start-call'), input: $('#start-to'), message: $('#start-message') });
new BatchStarter({
  form: $('#start-batch'),
  textarea: $('#batch-numbers'),
  file: $('#batch-file'),
  message: $('#batch-message'),
  preview: $('#batch-preview'),
  tracker: batches,
});

const campaigns = new CampaignList({
  root: $('#campaign-list'),
  empty: $('#campaigns-empty'),
  count: $('#campaigns-count'),
  more: $('#campaigns-more'),
  onFailure: showFailure,
});
const dnc = new DncPanel({ root: $('#dnc-panel') });
new CampaignForm({ form: $('#campaign-form'), onCreated: (id) => campaigns.reveal(id).catch(showFailure) });

const feed = new LiveFeed({
  onEvent: (message) => {
    if (message.call) store.upsert(message.call, true);
    if (message.event) {
      batches.apply(message.event);
      campaigns.apply(message.event);
      dnc.apply(message.event);
      panel.live(message);
    }
  },
  onState: (state) => {
    const indicator = $('#connection');
    indicator.dataset.state = state;
    $('#connection-text').textContent = CONNECTION_TEXT[state] || state;
  },
});

// A handle for the browser tests and for curious operators in the console.
window.__voxlog = {
  store,
  feed,
  dropSocket: (holdMs = 0) => feed.drop(holdMs),
  reconnectSocket: () => feed.reconnectNow(),
  get lastSeq() {
    return feed.lastSeq;
  },
};

function bindFilters() {
  const apply = () =>
    table
      .setFilter({
        status: $('#filter-status').value,
        outcome: $('#filter-outcome').value,
        number: normalizeNumber($('#filter-number').value),
      })
      .catch(showFailure);
  $('#filter-status').addEventListener('change', apply);
  $('#filter-outcome').addEventListener('change', apply);
  let typing = null;
  $('#filter-number').addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 200);
  });
}

// Two views, Calls and Campaigns, as tabs; #campaigns and #calls name them in the address. A call's audit
// panel (#call=...) opens over whichever view is shown.
const VIEWS = ['calls', 'campaigns'];
let currentView = null;

function showView(name) {
  if (name === currentView) return;
  currentView = name;
  for (const view of VIEWS) {
    const tab = $(`#tab-${view}`);
    const selected = view === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`#view-${view}`).hidden = !selected;
  }
  document.body.dataset.view = name;
  campaigns.setVisible(name === 'campaigns');
  dnc.setVisible(name === 'campaigns');
}

function bindTabs() {
  const tabs = VIEWS.map((v) => $(`#tab-${v}`));
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => {
      location.hash = tab.dataset.view;
    });
    // The tablist pattern: arrows move between the tabs (and show them), Home/End go to the ends.
    tab.addEventListener('keydown', (e) => {
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = tabs[(to + tabs.length) % tabs.length];
      next.focus();
      next.click();
    });
  });
}

function openFromHash() {
  const match = /^#call=(.+)$/.exec(location.hash);
  if (match) return panel.open(decodeURIComponent(match[1]));
  if (!$('#panel').hidden) panel.close();
  if (location.hash === '#campaigns') showView('campaigns');
  else if (location.hash === '#calls' || !currentView) showView('calls');
}

// Batches started before the page opened: their events up to the checkpoint, from the global log.
async function loadRecentBatches(checkpoint) {
  const after = Math.max(0, checkpoint - 1000);
  const reply = await api.get(`/api/events?after=${after}&limit=1000`);
  for (const event of reply.events) if (event.seq <= checkpoint) batches.apply(event);
}

async function boot() {
  bindFilters();
  bindTabs();
  window.addEventListener('hashchange', openFromHash);
  let health = await api.get('/healthz');
  // A server with tokens tells its log position only to a holder of one: ask for it (a read prompts once).
  if (health.lastSeq === undefined) {
    await api.get('/api/calls?limit=1');
    health = await api.get('/healthz');
  }
  // The view has applied everything up to its checkpoint: rows read now include it, /ws brings the rest.
  const checkpoint = Math.min(health.viewCheckpoint ?? 0, health.lastSeq ?? 0);
  await table.load();
  feed.start(checkpoint);
  await Promise.all([summary.start(), loadRecentBatches(checkpoint)]);
  if (/^#call=/.test(location.hash)) showView('calls');
  openFromHash();
  document.body.dataset.ready = 'true';
}

function showFailure(error) {
  const banner = $('#failure');
  banner.textContent = `Something went wrong: ${error.message}`;
  banner.hidden = false;
}

function askForToken(reason) {
  const dialog = $('#token-dialog');
  $('#token-reason').textContent = reason;
  $('#token-input').value = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok' ? $('#token-input').value.trim() : null), { once: true });
  });
}

boot().catch(showFailure);
