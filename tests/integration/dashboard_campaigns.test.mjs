// The dashboard's Campaigns view in a real browser (Debian chromium via playwright-core) against the real
// voxlogd and its embedded Twilio simulator: a CSV previewed (the rows to call, the rejected ones with
// their reasons) before it starts, then started; per-state counts up to the final states; pause, resume
// and cancel from the buttons; why a contact waits (a closed calling window) and when it is tried next;
// the CSV export (a plain link, and a Blob fetched with the token); the do-not-call panel. Screenshots go
// to tests/artifacts/.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';
import { launchBrowser, openDashboard, saveScreenshot } from '../lib/browser.mjs';

let server;
let browser;

before(async () => {
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

const LONG = { timeout: 30000 };

// The page on its Campaigns tab, once it is live and the list has been read.
async function campaignsPage(url = server.url, options = {}) {
  const opened = await openDashboard(browser, url, options);
  const { page } = opened;
  await page.locator('body[data-ready="true"]').waitFor();
  await page.locator('#connection[data-state="live"]').waitFor();
  await page.getByRole('tab', { name: 'Campaigns' }).click();
  await page.locator('#view-campaigns').waitFor();
  await page.locator('#campaign-list[data-loaded="true"]').waitFor({ state: 'attached' });
  return opened;
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

async function campaignIds() {
  return new Set((await server.get('/api/campaigns')).body.data.map((c) => c.id));
}

// The id of the one campaign in the server's list that is not in `known`.
async function newCampaign(known) {
  return eventually(async () => [...await campaignIds()].find((id) => !known.has(id)), 10000, 'the new campaign');
}

function card(page, id) {
  return page.locator(`#campaign-list .campaign[data-campaign-id="${id}"]`);
}

function count(cardLocator, state) {
  return cardLocator.locator(`.state-count[data-state="${state}"] .count-value`);
}

async function chooseCsv(page, name, csv) {
  await page.setInputFiles('#campaign-file', { name, mimeType: 'text/csv', buffer: Buffer.from(csv) });
}

// A calling window closed now and for the next two hours (UTC): it opens at the start of the hour after next.
function closedWindow() {
  const hour = new Date().getUTCHours();
  const hh = (h) => `${String(h % 24).padStart(2, '0')}:00`;
  const opensAt = Math.floor(Date.now() / 3600000) * 3600000 + 2 * 3600000;
  return { from: hh(hour + 2), to: hh(hour + 3), opensAt };
}

test('voxlogd serves the Campaigns view\'s modules', async () => {
  for (const path of ['/js/campaign_form.js', '/js/campaign_view.js', '/js/campaign_contacts.js', '/js/dnc.js']) {
    const file = await server.get(path);
    assert.equal(file.status, 200, path);
    assert.match(file.headers.get('content-type'), /text\/javascript/, path);
  }
});

test('a CSV is previewed (rows to call, rejected rows with their reasons) before it starts; Start creates it and its counts reach the final states', async () => {
  const { page, context, problems } = await campaignsPage();
  try {
    const numbers = ['+447911124001', '+447911124002', '+447911124003'];
    await script(numbers[0], { answer: 'human', digits: '1' });
    await script(numbers[1], { answer: 'human', digits: '2' });
    await script(numbers[2], { answer: 'busy' });
    const csv = [
      'phone,name,place,tz',
      `${numbers[0]},Ada,Leeds,Europe/London`,
      'call me maybe,Bob,Leeds,Europe/London',
      `${numbers[1]},Grace,York,Europe/London`,
      `${numbers[0]},Ada again,Leeds,Europe/London`,
      '07911 124003,Linus,Hull,Europe/London',
    ].join('\n') + '\n';
    const known = await campaignIds();
    await page.fill('#campaign-name', 'December reminders');
    await page.fill('#campaign-cps', '5');
    await chooseCsv(page, 'reminders.csv', csv);

    const preview = page.locator('.campaign-preview[data-accepted="3"][data-rejected="2"]');
    await preview.waitFor(LONG);
    assert.equal(await preview.locator('.preview-ready').textContent(), '3 ready');
    assert.match(await preview.locator('.preview-summary').textContent(), /2 rejected · 5 rows in the file/);
    assert.match(await preview.locator('.preview-policy').textContent(), /5 calls a second/);
    const rejected = await preview.locator('.rejected-rows tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.equal(rejected.length, 2);
    assert.deepEqual(rejected[0].slice(0, 2), ['3', 'call me maybe']);
    assert.match(rejected[0][2], /not a valid phone number/);
    assert.deepEqual(rejected[1], ['5', numbers[0], 'duplicate of row 2']);
    const ready = await preview.locator('.preview-rows tbody tr').evaluateAll((trs) =>
      trs.map((tr) => tr.cells[1].textContent));
    assert.deepEqual(ready, numbers, 'the rows to call, normalised to E.164');
    assert.ok(await preview.locator('.preview-rows thead', { hasText: 'place' }).count(), 'the CSV\'s own columns are shown');
    assert.deepEqual(await campaignIds(), known, 'a preview creates nothing');
    await saveScreenshot(page, 'campaigns-preview');

    await page.getByRole('button', { name: 'Start campaign' }).click();
    await page.locator('#campaign-form .campaign-message[data-kind="ok"]', { hasText: 'started: 3 contacts, 2 rejected' }).waitFor(LONG)
      .catch(async (e) => assert.fail(`${e.message}\nthe form says: ${await page.locator('#campaign-form .campaign-message').textContent()}`));
    const id = await newCampaign(known);
    const created = (await server.get(`/api/campaigns/${id}`)).body.data;
    assert.equal(created.name, 'December reminders');
    assert.equal(created.source, 'csv');
    assert.equal(created.totalRows, 5);
    assert.equal(created.policy.cps, 5, 'the options of the preview are the campaign\'s');
    const shown = card(page, id);
    await shown.waitFor(LONG);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'December reminders', 'the new campaign has the focus');
    assert.equal(await page.locator('.campaign-preview').isHidden(), true, 'the form is ready for the next file');

    await shown.and(page.locator('[data-state="completed"]')).waitFor(LONG);
    assert.equal(await count(shown, 'confirmed').textContent(), '1');
    assert.equal(await count(shown, 'cancelled').textContent(), '1');
    assert.equal(await count(shown, 'unreachable').textContent(), '1');
    assert.equal(await count(shown, 'pending').textContent(), '0');
    assert.equal(await shown.locator('[role=progressbar]').getAttribute('aria-valuenow'), '100');
    assert.equal(await shown.locator('.campaign-percent').textContent(), '100%');
    assert.match(await shown.locator('.campaign-summary').textContent(), /^3 of 3 contacts done · completed/);
    assert.equal(await shown.locator('.campaign-state').textContent(), 'Completed');
    assert.equal(await shown.locator('.campaign-actions button:visible').count(), 0, 'nothing to pause, resume or cancel');

    // The contacts, with each one's last result.
    await shown.locator('.campaign-contacts summary').click();
    const rows = shown.locator('.contact-row');
    await eventually(async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.state))).join() ===
      'confirmed,cancelled,unreachable', 10000, 'the contacts in their final states');
    assert.equal(await rows.first().locator('.result').textContent(), 'Confirmed 1');
    await saveScreenshot(page, 'campaigns-completed');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a campaign created elsewhere appears live; pause, resume and cancel from its buttons; server strings stay text', async () => {
  const { page, context, problems } = await campaignsPage();
  try {
    const numbers = ['+447911124101', '+447911124102', '+447911124103'];
    for (const to of numbers) await script(to, { answer: 'human', digits: '1' });
    const name = '<img src=x onerror="window.__pwned=1"> January';
    const reply = await server.post('/api/campaigns', {
      name,
      cps: 0.2,  // one call every 5 s: still running while the buttons are tried
      contacts: numbers.map((phone, i) => ({ phone, name: `<b>Contact ${i}</b>` })),
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const id = reply.body.data.id;
    const shown = card(page, id);
    await shown.waitFor(LONG);
    assert.equal(await shown.locator('h3').textContent(), name);
    assert.equal(await page.locator('#view-campaigns img').count(), 0);

    await shown.getByRole('button', { name: /^Pause campaign/ }).click();
    await shown.and(page.locator('[data-state="paused"]')).waitFor(LONG);
    assert.equal(await shown.locator('.campaign-state').textContent(), 'Paused');
    await shown.getByRole('button', { name: /^Resume campaign/ }).waitFor();
    assert.equal(await shown.getByRole('button', { name: /^Pause campaign/ }).count(), 0, 'no Pause while paused');
    assert.match(await shown.locator('.campaign-summary').textContent(), /paused/);
    assert.equal((await server.get(`/api/campaigns/${id}`)).body.data.state, 'paused');
    await saveScreenshot(page, 'campaigns-paused');

    await shown.getByRole('button', { name: /^Resume campaign/ }).click();
    await shown.and(page.locator('[data-state="running"]')).waitFor(LONG);
    await shown.getByRole('button', { name: /^Pause campaign/ }).waitFor();
    assert.equal((await server.get(`/api/campaigns/${id}`)).body.data.state, 'running');

    // Cancelling asks first; "Keep it" changes nothing.
    await shown.getByRole('button', { name: /^Cancel campaign/ }).click();
    await shown.getByRole('button', { name: 'Keep it' }).click();
    assert.equal(await shown.locator('.campaign-confirm').isHidden(), true);
    assert.equal((await server.get(`/api/campaigns/${id}`)).body.data.state, 'running');
    await shown.getByRole('button', { name: /^Cancel campaign/ }).click();
    await shown.getByRole('button', { name: 'Yes, cancel it' }).click();
    await shown.and(page.locator('[data-state="cancelled"]')).waitFor(LONG);
    assert.equal(await shown.locator('.campaign-state').textContent(), 'Cancelled');
    assert.equal(await shown.locator('.campaign-actions button:visible').count(), 0, 'a cancelled campaign has no buttons');
    await shown.locator('.campaign-export').waitFor();
    assert.equal((await server.get(`/api/campaigns/${id}`)).body.data.state, 'cancelled');
    const types = (await server.get('/api/events?limit=1000')).body.events
      .filter((e) => e.stream === `campaign-${id}`).map((e) => e.type);
    for (const t of ['CampaignPaused', 'CampaignResumed', 'CampaignCancelled']) assert.ok(types.includes(t), `${t} in ${types}`);

    await shown.locator('.campaign-contacts summary').click();
    await shown.locator('.contact-row').first().waitFor(LONG);
    assert.match(await shown.locator('.contact-row').first().textContent(), /<b>Contact 0<\/b>/);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.equal(await page.locator('#view-campaigns b, #view-campaigns img').count(), 0);
    // The calls already placed run to their end (so that none is left ringing when the server stops).
    await eventually(async () => {
      const c = (await server.get(`/api/campaigns/${id}`)).body.data;
      return c.counts.in_flight === 0;
    }, 30000, 'no call of the cancelled campaign left in flight');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the contacts table says why a contact waits (its calling window is closed) and when it is tried next; paged and filtered by state', async () => {
  const { page, context, problems } = await campaignsPage();
  try {
    const closed = closedWindow();
    const lines = ['phone,name,tz'];
    for (let i = 1; i <= 30; i++) lines.push(`+4479111242${String(i).padStart(2, '0')},Person ${i},UTC`);
    const known = await campaignIds();
    await page.fill('#campaign-name', 'Closed window');
    await page.fill('#campaign-window-from', closed.from);
    await page.fill('#campaign-window-to', closed.to);
    await chooseCsv(page, 'later.csv', lines.join('\n'));
    await page.locator('.campaign-preview[data-accepted="30"]').waitFor(LONG);
    assert.match(await page.locator('.preview-policy').textContent(), new RegExp(`${closed.from}–${closed.to} every day`));
    await page.getByRole('button', { name: 'Start campaign' }).click();
    const id = await newCampaign(known);
    const shown = card(page, id);
    await shown.waitFor(LONG);
    await eventually(async () => (await count(shown, 'deferred').textContent()) === '30', 15000, 'every contact deferred');
    assert.equal(await shown.locator('.campaign-state').textContent(), 'Running');
    assert.equal(await shown.locator('.campaign-percent').textContent(), '0%');
    const summary = shown.locator('.campaign-summary');
    await eventually(async () => Number(await summary.getAttribute('data-next-at')) === closed.opensAt, 10000, 'the next call time');
    assert.match(await summary.textContent(), /next call at .+ \(in (1 h|2 h|\d+ min)/);

    await shown.locator('.campaign-contacts summary').click();
    const rows = shown.locator('.contact-row');
    await rows.first().waitFor(LONG);
    assert.equal(await rows.count(), 25, 'one page');
    const first = rows.first();
    assert.equal(await first.getAttribute('data-state'), 'deferred');
    assert.equal(await first.locator('td.reason').getAttribute('data-reason'), 'window');
    assert.equal(await first.locator('td.reason').textContent(), 'outside its calling window');
    assert.equal(Date.parse(await first.locator('td.next-at time').getAttribute('datetime')), closed.opensAt);
    assert.match(await first.locator('td.next-at').textContent(), /\(in /);
    assert.equal(await shown.locator('.contacts-page').textContent(), '1–25');
    await saveScreenshot(page, 'campaigns-window');

    await shown.getByRole('button', { name: 'Next' }).click();
    await shown.locator('.contacts-page', { hasText: '26–30' }).waitFor();
    assert.equal(await rows.count(), 5);
    assert.equal(await rows.first().locator('td.number').textContent(), '+447911124226');
    assert.equal(await shown.getByRole('button', { name: 'Next' }).isDisabled(), true);
    await shown.getByRole('button', { name: 'Previous' }).click();
    await shown.locator('.contacts-page', { hasText: '1–25' }).waitFor();

    await shown.getByLabel('Show').selectOption('confirmed');
    await shown.locator('.contacts-empty', { hasText: 'No contact is confirmed.' }).waitFor();
    assert.equal(await rows.count(), 0);
    await shown.getByLabel('Show').selectOption('deferred');
    await shown.locator('.contacts-page', { hasText: '1–25' }).waitFor();
    assert.equal(await rows.count(), 25);

    // Export: one row per contact, as the server has them.
    const [download] = await Promise.all([page.waitForEvent('download'), shown.getByRole('link', { name: /^Export campaign/ }).click()]);
    assert.equal(download.suggestedFilename(), `campaign-${id}.csv`);
    const text = (await readFile(await download.path(), 'utf8')).replace(/^\uFEFF/, '');
    const csvRows = text.trim().split(/\r?\n/);
    assert.match(csvRows[0], /^row,phone,name,state/);
    assert.equal(csvRows.length, 31, 'a header and one row per contact');
    assert.match(csvRows[1], /^1,\+447911124201,Person 1,deferred,.*window/);

    // Cancelled: its contacts wait for nothing any more, and the table says so.
    await shown.getByRole('button', { name: /^Cancel campaign/ }).click();
    await shown.getByRole('button', { name: 'Yes, cancel it' }).click();
    await shown.and(page.locator('[data-state="cancelled"]')).waitFor(LONG);
    await rows.first().locator('td.reason', { hasText: 'not called: the campaign is cancelled' }).waitFor(LONG);
    assert.equal(await rows.first().locator('td.next-at').textContent(), '');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the do-not-call panel adds and removes a number, and a campaign skips a listed number, saying why', async () => {
  const { page, context, problems } = await campaignsPage();
  try {
    const listed = '+447911124301';
    const other = '+447911124302';
    await script(other, { answer: 'human', digits: '1' });
    await page.fill('#dnc-phone', 'not a number');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.locator('.dnc-message[data-kind="error"]').waitFor();
    assert.equal(await page.getAttribute('#dnc-phone', 'aria-invalid'), 'true');
    await page.fill('#dnc-phone', '07911 124301');
    await page.getByRole('button', { name: 'Add' }).click();
    const entry = page.locator(`.dnc-list tr[data-phone="${listed}"]`);
    await entry.waitFor(LONG);
    assert.equal(await page.locator('.dnc-count').textContent(), '1');
    assert.equal((await server.get('/api/dnc')).body.data.some((e) => e.phone === listed), true);

    const known = await campaignIds();
    await chooseCsv(page, 'dnc.csv', `phone,name\n${listed},Listed\n${other},Other\n`);
    await page.locator('.campaign-preview[data-accepted="2"]').waitFor(LONG);
    await page.getByRole('button', { name: 'Start campaign' }).click();
    const id = await newCampaign(known);
    const shown = card(page, id);
    await shown.and(page.locator('[data-state="completed"]')).waitFor(LONG);
    assert.equal(await count(shown, 'skipped').textContent(), '1');
    assert.equal(await count(shown, 'confirmed').textContent(), '1');
    await shown.locator('.campaign-contacts summary').click();
    const skipped = shown.locator(`.contact-row[data-phone="${listed}"]`);
    await skipped.and(page.locator('[data-state="skipped"]')).waitFor(LONG);
    assert.equal(await skipped.locator('td.reason').getAttribute('data-reason'), 'do_not_call');
    assert.equal(await skipped.locator('td.reason').textContent(), 'on the do-not-call list');

    await entry.getByRole('button', { name: `Remove ${listed} from the do-not-call list` }).click();
    await entry.waitFor({ state: 'detached', ...LONG });
    await page.locator('.dnc-empty').waitFor();
    assert.equal((await server.get('/api/dnc')).body.data.length, 0);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('on a phone the Campaigns view is one column, nothing wider than the screen', async () => {
  const { page, context, problems } = await campaignsPage(server.url, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  try {
    await page.locator('#campaign-list .campaign').first().waitFor(LONG);
    await page.locator('#campaign-list .campaign .campaign-contacts summary').first().click();
    await page.locator('#campaign-list .campaign .contact-row').first().waitFor(LONG);
    const widths = await page.evaluate(() => [window.innerWidth, document.documentElement.scrollWidth]);
    assert.deepEqual(widths, [390, 390], 'nothing is wider than the phone');
    const [form, dnc] = await page.locator('.campaign-top > *').evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect().left));
    assert.equal(form, dnc, 'the form and the do-not-call panel are stacked');
    await saveScreenshot(page, 'campaigns-phone');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('with API_TOKEN the export is fetched with the token and saved from a Blob', async () => {
  const secret = 'dashboard-campaign-token';
  const guarded = await startVoxlogd({ env: { API_TOKEN: secret } });
  const context = await browser.newContext();
  try {
    const auth = { Authorization: `Bearer ${secret}` };
    const w = closedWindow();
    const res = await fetch(`${guarded.url}/api/campaigns`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...auth },
      body: JSON.stringify({ name: 'Guarded', window: { from: w.from, to: w.to },
        contacts: [{ phone: '+447911124401', tz: 'UTC' }, { phone: '+447911124402', tz: 'UTC' }] }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, body);
    const { id } = JSON.parse(body).data;
    assert.equal((await fetch(`${guarded.url}/api/campaigns/${id}/export.csv`)).status, 401, 'no export without the token');

    const page = await context.newPage();
    await page.goto(`${guarded.url}/#campaigns`);
    await page.locator('#token-dialog[open]').waitFor();
    await page.fill('#token-input', secret);
    await page.click('#token-dialog button[value=ok]');
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#view-campaigns').waitFor();
    const shown = card(page, id);
    await shown.waitFor(LONG);
    const [download] = await Promise.all([page.waitForEvent('download'), shown.getByRole('link', { name: /^Export campaign/ }).click()]);
    assert.equal(download.suggestedFilename(), `campaign-${id}.csv`);
    const rows = (await readFile(await download.path(), 'utf8')).trim().split(/\r?\n/);
    assert.equal(rows.length, 3, 'a header and one row per contact');
    assert.match(rows[1], /\+447911124401/);
    assert.equal(await shown.locator('.card-message[data-kind="error"]').count(), 0);
    const cancel = await fetch(`${guarded.url}/api/campaigns/${id}/cancel`, { method: 'POST', headers: auth });
    assert.equal(cancel.status, 200);
  } finally {
    await context.close();
    await guarded.stop();
  }
});
