// The dashboard in a real browser (Debian chromium via playwright-core) against the real voxlogd and its
// embedded Twilio simulator: live table, audit timeline, start a call and a batch, resume after a dropped
// WebSocket, the API token prompt, the phone layout. Screenshots go to tests/artifacts/.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';
import { launchBrowser, openDashboard, saveScreenshot, rowsFor } from '../lib/browser.mjs';

let server;
let browser;

before(async () => {
  // Simulated calls at 1/20 of real time: fast, yet each status lasts several frames, so the page's row
  // shows every one of them (at 1/100 a short ring could fall within one animation frame).
  server = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.05' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(() => {
  assert.equal(server.proc.exitCode ?? server.proc.signalCode, null, `voxlogd died:\n${server.output()}`);
});

let counter = 0;
// One Studio-style webhook, as flow.json's HTTP widgets send it (unique timestamp: no dedupe collision),
// on a connection of its own as Twilio would open it.
function webhook(route, body) {
  const payload = JSON.stringify({ timestamp: `${Date.now()}-${++counter}`, ...body });
  const signed = server.signWebhook(`/api/calls/webhooks/${route}`, payload, 'application/json');
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${signed.path}`, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...signed.headers },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${route}: ${res.statusCode} ${text}`))));
    });
    req.on('error', (e) => reject(new Error(`${route} webhook ${payload}: ${e.message}; voxlogd said:\n${server.output()}`)));
    req.end(payload);
  });
}

function callIds(n) {
  const tail = String(n).padStart(6, '0');
  return { execution_sid: `FN${'a'.repeat(26)}${tail}`, call_sid: `CA${'b'.repeat(26)}${tail}` };
}

async function dashboard(options) {
  const opened = await openDashboard(browser, server.url, options);
  await opened.page.locator('body[data-ready="true"]').waitFor();
  await opened.page.locator('#connection[data-state="live"]').waitFor();
  return opened;
}

// Submits the batch form and returns a locator for the batch it started: found by its id, since the page
// also lists batches that earlier tests started (from the log), and re-sorts them as events arrive.
async function startBatchFromForm(page) {
  const ids = () => page.locator('#batches .batch').evaluateAll((nodes) => nodes.map((n) => n.dataset.batchId));
  const before = new Set(await ids());
  await page.click('#start-batch button[type=submit]');
  const id = await eventually(async () => (await ids()).find((i) => !before.has(i)), 10000, 'the new batch on the page');
  return page.locator(`#batches .batch[data-batch-id="${id}"]`);
}

const STATUS_RANK = { queued: 0, initiated: 0, ringing: 1, 'in-progress': 2, completed: 3, busy: 3, 'no-answer': 3, failed: 3, canceled: 3 };

test('voxlogd serves the dashboard and its modules as static files', async () => {
  const page = await server.get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.match(page.body, /<script type="module" src="\/js\/app.js">/);
  for (const path of ['/js/app.js', '/js/live.js', '/js/calls.js', '/js/timeline.js', '/js/stats.js', '/js/campaigns.js', '/style.css']) {
    const file = await server.get(path);
    assert.equal(file.status, 200, path);
    assert.match(file.headers.get('content-type'), path.endsWith('.css') ? /text\/css/ : /text\/javascript/, path);
  }
  assert.equal((await server.get('/js/nope.js')).status, 404);
});

test('a call driven by webhooks appears live, moves through its statuses, and its timeline shows the raw parameters', async () => {
  const { page, context, problems } = await dashboard();
  try {
    await page.locator('#calls-empty', { hasText: 'No calls yet' }).waitFor();
    const to = '+447700900101';
    const ids = callIds(101);
    await webhook('status', { ...ids, to, event: 'answered', call_status: 'in-progress' });
    const row = rowsFor(page, to);
    await row.and(page.locator('[data-status="in-progress"]')).waitFor();
    await webhook('dtmf', { ...ids, to, event: 'dtmf', digits: '1' });
    await webhook('status', { ...ids, to, event: 'completed', call_status: 'completed', call_duration: '42' });
    await row.and(page.locator('[data-status="completed"][data-outcome="confirmed"]')).waitFor();
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('td.digits').textContent(), '1');
    assert.equal(await row.locator('[data-kind="outcome"]').textContent(), 'Confirmed');
    assert.equal(await row.locator('td[data-label="Duration"]').textContent(), '42s');
    await page.locator('[data-card="confirmed"] .card-value', { hasText: /^[1-9]/ }).waitFor();

    await row.click();
    const panel = page.locator('#panel .sheet');
    await panel.locator('.event[data-type="AppointmentConfirmed"]').waitFor();
    const types = await panel.locator('.event').evaluateAll((items) => items.map((li) => li.dataset.type));
    const api = await server.get(`/api/calls/${ids.execution_sid}/events`);
    assert.deepEqual(types, api.body.data.map((e) => e.type), 'the panel lists the call stream, in order');
    assert.ok(types.includes('WebhookReceived') && types.includes('CallStatusChanged') && types.includes('DigitsPressed'));
    const firstWebhook = panel.locator('.event[data-type="WebhookReceived"]').first();
    assert.match(await firstWebhook.locator('table.params').textContent(), new RegExp(ids.execution_sid));
    assert.match(await firstWebhook.locator('time').textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    assert.match(page.url(), /#call=/);

    // A new event of the open call is appended live.
    await webhook('flow', { ...ids, to, event: 'recording_ready', RecordingUrl: 'https://api.twilio.com/rec/RE1' });
    await panel.locator('.event[data-type="RecordingAvailable"]').waitFor();
    await saveScreenshot(page, 'dashboard-timeline');
    await page.keyboard.press('Escape');
    await page.locator('#panel').waitFor({ state: 'hidden' });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('server strings are shown as text, never as markup', async () => {
  const { page, context, problems } = await dashboard();
  try {
    const to = '<img src=x onerror="window.__pwned=1">';
    await webhook('status', { ...callIds(102), to, event: 'answered', call_status: 'in-progress' });
    await page.locator('td.number', { hasText: '<img src=x' }).waitFor();
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#calls img').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('after a dropped WebSocket the table catches up with ?after, showing each call once', async () => {
  const { page, context, problems } = await dashboard();
  try {
    const to = '+447700900103';
    const ids = callIds(103);
    await webhook('status', { ...ids, to, event: 'answered', call_status: 'in-progress' });
    await rowsFor(page, to).and(page.locator('[data-status="in-progress"]')).waitFor();
    const seqBefore = await page.evaluate(() => window.__voxlog.lastSeq);

    // 1. The page's own hook: the socket closes, the indicator says so, events happen meanwhile.
    await page.evaluate(() => window.__voxlog.dropSocket(60000));
    await page.locator('#connection[data-state="reconnecting"]').waitFor();
    await webhook('dtmf', { ...ids, to, event: 'dtmf', digits: '2' });
    await webhook('status', { ...ids, to, event: 'completed', call_status: 'completed' });
    const missed = '+447700900104';
    await webhook('status', { ...callIds(104), to: missed, event: 'answered', call_status: 'in-progress' });
    assert.equal(await page.evaluate(() => window.__voxlog.lastSeq), seqBefore, 'nothing arrives while dropped');
    await saveScreenshot(page, 'dashboard-reconnecting');
    await page.evaluate(() => window.__voxlog.reconnectSocket());
    await page.locator('#connection[data-state="live"]').waitFor();
    await rowsFor(page, to).and(page.locator('[data-outcome="cancelled"]')).waitFor();
    await rowsFor(page, missed).waitFor();

    // 2. The network itself goes away (chromium's offline mode), then comes back.
    await context.setOffline(true);
    await page.locator('#connection[data-state="offline"]').waitFor();
    const late = '+447700900105';
    await webhook('status', { ...callIds(105), to: late, event: 'answered', call_status: 'in-progress' });
    await context.setOffline(false);
    await page.locator('#connection[data-state="live"]').waitFor();
    await rowsFor(page, late).waitFor();

    const shown = await page.locator('#calls tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.callId));
    assert.equal(new Set(shown).size, shown.length, `a call is shown twice: ${shown}`);
    const listed = (await server.get('/api/calls?limit=500')).body.data.map((r) => String(r.id));
    assert.deepEqual([...shown].sort(), [...listed].sort(), 'the table equals the Call view');
    assert.deepEqual(shown, [...shown].sort((a, b) => b - a), 'newest first');
    assert.equal(await page.evaluate(() => window.__voxlog.lastSeq), (await server.get('/healthz')).body.lastSeq);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('filters by status and outcome and searches by number', async () => {
  const { page, context } = await dashboard();
  try {
    const base = '+447700900';
    await webhook('status', { ...callIds(110), to: `${base}110`, event: 'busy', call_status: 'busy' });
    await rowsFor(page, `${base}110`).waitFor();
    await page.selectOption('#filter-outcome', 'busy');
    await eventually(async () => {
      const outcomes = await page.locator('#calls tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.outcome));
      return outcomes.length > 0 && outcomes.every((o) => o === 'busy');
    }, 5000, 'only busy rows');
    await page.selectOption('#filter-outcome', '');
    await page.selectOption('#filter-status', 'completed');
    await eventually(async () => {
      const statuses = await page.locator('#calls tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.status));
      return statuses.length > 0 && statuses.every((s) => s === 'completed');
    }, 5000, 'only completed rows');
    await page.selectOption('#filter-status', '');
    await page.fill('#filter-number', '900 110');
    await eventually(async () => (await page.locator('#calls tbody tr').count()) === 1, 5000, 'one row for the search');
    await page.fill('#filter-number', '+449999');
    await page.locator('#calls-empty', { hasText: 'No calls match' }).waitFor();
    assert.ok(await page.locator('#calls-more').isHidden(), 'no "load older" when there is nothing older');
    await page.fill('#filter-number', '');
  } finally {
    await context.close();
  }
});

// Records every status a call's row shows, in order, as the table replaces the row.
async function recordStatuses(page, number) {
  await page.evaluate((wanted) => {
    window.__statuses = [];
    const seen = (tr) => {
      if (tr.querySelector?.('td.number')?.textContent !== wanted) return;
      const last = window.__statuses[window.__statuses.length - 1];
      if (last !== tr.dataset.status) window.__statuses.push(tr.dataset.status);
    };
    new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(seen))).observe(
      document.querySelector('#calls tbody'), { childList: true });
  }, number);
  return () => page.evaluate(() => window.__statuses);
}

async function script(to, outcome) {
  const { simulatorUrl } = (await server.get('/healthz')).body;
  assert.ok(simulatorUrl, 'voxlogd runs its embedded simulator when no Twilio credentials are set');
  const res = await fetch(`${simulatorUrl}/__sim/script`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ to, ...outcome }),
  });
  assert.equal(res.status, 200, await res.text());
}

test('starting a call from the page: the server refusal is shown inline, a good number rings through to its outcome', async () => {
  const { page, context, problems } = await dashboard();
  try {
    const bad = 'call me maybe';
    const refusal = await server.post('/api/calls/start', { to: bad });
    assert.equal(refusal.status, 400);
    await page.fill('#start-to', bad);
    await page.click('#start-call button[type=submit]');
    const message = page.locator('#start-message[data-kind="error"]');
    await message.waitFor();
    assert.equal(await message.textContent(), refusal.body.detail, 'the page shows the server\'s own words');
    assert.equal(await page.getAttribute('#start-to', 'aria-invalid'), 'true');

    const to = '+447911123401';
    await script(to, { answer: 'human', digits: '1' });
    const statuses = await recordStatuses(page, to);
    await page.fill('#start-to', to);
    await page.click('#start-call button[type=submit]');
    await page.locator('#start-message[data-kind="ok"]', { hasText: /FN/ }).waitFor();
    const row = rowsFor(page, to);
    await row.and(page.locator('[data-outcome="confirmed"]')).waitFor({ timeout: 20000 });
    await row.and(page.locator('[data-status="completed"]')).waitFor({ timeout: 20000 });
    const seen = await statuses();
    assert.equal(seen[0], 'queued', `first status shown: ${seen}`);
    assert.ok(seen.includes('in-progress'), `the call was shown in progress: ${seen}`);
    assert.equal(seen[seen.length - 1], 'completed');
    const ranks = seen.map((s) => STATUS_RANK[s]);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), `statuses never go back: ${seen}`);
    assert.equal(await row.locator('td.digits').textContent(), '1');
    assert.equal(await row.count(), 1);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a running batch can be paused and resumed from its progress bar', async () => {
  const { page, context, problems } = await dashboard();
  try {
    const numbers = ['+447911123431', '+447911123432', '+447911123433', '+447911123434'];
    for (const to of numbers) await script(to, { answer: 'human', digits: '1' });
    await page.fill('#batch-numbers', numbers.join('\n'));
    const batch = await startBatchFromForm(page);  // placed at TWILIO_CPS, 1 call/s here
    await batch.getByRole('button', { name: /^Pause batch/ }).click();
    await batch.and(page.locator('[data-paused="true"]')).waitFor();
    await batch.getByRole('button', { name: /^Resume batch/ }).waitFor();
    const dialled = async () => Number((await batch.locator('.batch-counts').textContent()).match(/^(\d+) dialled/)[1]);
    const whenPaused = await dialled();
    assert.ok(whenPaused < numbers.length, `paused after ${whenPaused} of ${numbers.length} calls`);
    assert.match(await batch.locator('.batch-counts').textContent(), /· paused/);
    await saveScreenshot(page, 'dashboard-batch-paused');
    await new Promise((resolve) => setTimeout(resolve, 2500));  // at 1 call/s, two more calls were due
    assert.equal(await dialled(), whenPaused, 'nothing is dialled while the batch is paused');

    await batch.getByRole('button', { name: /^Resume batch/ }).click();
    await batch.and(page.locator('[data-percent="100"]')).waitFor({ timeout: 20000 });
    assert.match(await batch.locator('.batch-counts').textContent(), /4 dialled · 0 refused · 4 in total/);
    assert.equal(await batch.locator('button.batch-toggle').count(), 0, 'a finished batch has no button');
    // Every call of the batch runs to its scripted outcome (and is over before the next test starts).
    for (const to of numbers) {
      await rowsFor(page, to).and(page.locator('[data-status="completed"][data-outcome="confirmed"]')).waitFor({ timeout: 20000 });
    }
    const types = (await server.get('/api/events?limit=1000')).body.events.map((e) => e.type);
    assert.ok(types.includes('CampaignPaused') && types.includes('CampaignResumed'));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a batch from pasted numbers and one from a CSV file both show progress up to 100%', async () => {
  const { page, context, problems } = await dashboard();
  try {
    const pasted = ['+447911123411', '+447911123412', '+447911123413'];
    for (const to of pasted) await script(to, { answer: 'human', digits: '2' });
    await page.fill('#batch-numbers', [...pasted, 'not-a-number'].join('\n'));
    await page.locator('#batch-preview', { hasText: '4 numbers ready' }).waitFor();
    const first = await startBatchFromForm(page);
    await page.locator('#batch-message[data-kind="ok"]').waitFor();
    await first.and(page.locator('[data-percent="100"]')).waitFor({ timeout: 20000 });
    assert.equal(await first.locator('[role=progressbar]').getAttribute('aria-valuenow'), '100');
    assert.match(await first.locator('.batch-counts').textContent(), /3 dialled · 1 refused · 4 in total/);
    for (const to of pasted) await rowsFor(page, to).and(page.locator('[data-outcome="cancelled"]')).waitFor({ timeout: 20000 });

    const csv = 'name,phone\nAda,+447911123421\nGrace,+447911123422\n';
    await page.setInputFiles('#batch-file', { name: 'numbers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('#batch-preview', { hasText: 'numbers.csv: 2 numbers ready' }).waitFor();
    assert.equal(await page.inputValue('#batch-numbers'), '+447911123421\n+447911123422');
    const second = await startBatchFromForm(page);
    await second.and(page.locator('[data-percent="100"]')).waitFor({ timeout: 20000 });
    assert.match(await second.locator('.batch-counts').textContent(), /2 dialled · 0 refused · 2 in total/);
    await rowsFor(page, '+447911123422').waitFor();

    await page.click('#start-batch button[type=submit]');
    await page.locator('#batch-message[data-kind="error"]', { hasText: 'Paste at least one number' }).waitFor();
    await eventually(async () => Number(await page.locator('[data-card="calls"] .card-value').textContent()) >= 5, 10000, 'the cards count the calls');
    await saveScreenshot(page, 'dashboard-laptop');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('on a phone the page is one column and the table becomes cards', async () => {
  const { page, context, problems } = await dashboard({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  try {
    await page.locator('#calls tbody tr').first().waitFor();
    assert.equal(await page.locator('#calls thead').evaluate((t) => getComputedStyle(t).display), 'none');
    // One script, so that a live update cannot replace the row between finding it and reading its style
    // (a detached row's computed display is '').
    const rowDisplay = await page.evaluate(() => getComputedStyle(document.querySelector('#calls tbody tr')).display);
    assert.equal(rowDisplay, 'block');
    const widths = await page.evaluate(() => [window.innerWidth, document.documentElement.scrollWidth]);
    assert.deepEqual(widths, [390, 390], 'nothing is wider than the phone (a mobile browser would zoom out)');
    const [a, b] = await page.locator('.actions > form').evaluateAll((forms) => forms.map((f) => f.getBoundingClientRect().left));
    assert.equal(a, b, 'the two forms are stacked in one column');
    await saveScreenshot(page, 'dashboard-phone');
    await page.locator('#calls tbody tr').first().click();
    await page.locator('#panel .event').first().waitFor();
    const sheet = await page.locator('#panel .sheet').boundingBox();
    assert.equal(Math.round(sheet.width), 390, 'the timeline takes the whole phone screen');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('with API_TOKEN the page asks for the token once per session and uses it for REST and /ws', async () => {
  const secret = 'dashboard-test-token';
  const guarded = await startVoxlogd({ env: { API_TOKEN: secret } });
  const context = await browser.newContext();
  try {
    assert.equal((await guarded.get('/api/calls')).status, 401);
    const page = await context.newPage();
    await page.goto(guarded.url);
    const dialog = page.locator('#token-dialog[open]');
    await dialog.waitFor();
    await page.fill('#token-input', 'wrong-token');
    await page.keyboard.press('Enter');
    await page.locator('#token-reason', { hasText: 'refused' }).waitFor();
    await dialog.waitFor();
    await page.fill('#token-input', secret);
    await page.click('#token-dialog button[value=ok]');
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#connection[data-state="live"]').waitFor();

    const to = '+447700900401';
    const res = await guarded.post('/api/calls/webhooks/status', { ...callIds(401), to, event: 'answered', call_status: 'in-progress' });
    assert.equal(res.status, 200);
    await rowsFor(page, to).waitFor();
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#connection[data-state="live"]').waitFor();
    assert.equal(await page.locator('#token-dialog[open]').count(), 0, 'not asked again in the same session');
    await rowsFor(page, to).waitFor();
    assert.ok(!guarded.output().includes(secret), 'the token never appears in the server log');
  } finally {
    await context.close();
    await guarded.stop();
  }
});
