// Several Twilio accounts (issue 18 item 6): named accounts in the configuration, each with its own caller
// ID, flow and webhook signature check; `region`/`account` on start, start-bulk and campaigns picks one.
// Twilio is a separate voxlog-sim process playing two accounts (each its own SID, token and flow, each
// signing its webhooks with its own token), and voxlogd talks to it exactly as to Twilio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startVoxlogd, runUntilExit, eventually } from '../lib/voxlogd.mjs';
import { signForm, signJson } from '../lib/twilio.mjs';
import { launchBrowser, openDashboard, rowsFor } from '../lib/browser.mjs';

const SIM = process.env.VOXLOG_SIM || new URL('../../build/tools/simulator/voxlog-sim', import.meta.url).pathname;
const FLOW = new URL('../../flow.json', import.meta.url).pathname;
const PL = { sid: 'AC' + '1'.repeat(32), token: 'poland-twilio-token-0123456789abcd', from: '+48221234567' };
const UK = { sid: 'AC' + '2'.repeat(32), token: 'uk-twilio-token-0123456789abcdefgh', from: '+442071234567' };
const TERMINAL = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

async function startSimulator() {
  const proc = spawn(SIM, ['--port', '0', '--account-sid', PL.sid, '--auth-token', PL.token, '--flow', FLOW,
    '--time-scale', '0.002', '--more-accounts', `${UK.sid}:${UK.token}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listening = new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      output += d;
      const m = output.match(/listening on (http:\/\/[^ ]+) \(flow (FW\w+)\)[\s\S]*account AC2+ has flow (FW\w+)/);
      if (m) resolve({ url: m[1], plFlow: m[2], ukFlow: m[3] });
    });
    proc.stderr.on('data', (d) => { output += d; });
    proc.on('exit', (code) => reject(new Error(`voxlog-sim exited ${code}: ${output}`)));
  });
  const info = await listening;
  const admin = async (path, body) => (await fetch(info.url + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  return { ...info, proc, script: (s) => admin('/__sim/script', s), executions: async () => (await admin('/__sim/executions')).executions };
}

// poland is the default account (TWILIO_ACCOUNT_SID, its region TWILIO_REGION); uk is named.
function twoAccounts(sim, extra = {}) {
  return {
    TWILIO_ACCOUNT_SID: PL.sid, TWILIO_AUTH_TOKEN: PL.token, TWILIO_PHONE_NUMBER: PL.from, TWILIO_FLOW_SID: sim.plFlow,
    TWILIO_REGION: 'poland', TWILIO_ACCOUNTS: 'uk',
    TWILIO_UK_ACCOUNT_SID: UK.sid, TWILIO_UK_AUTH_TOKEN: UK.token, TWILIO_UK_PHONE_NUMBER: UK.from, TWILIO_UK_FLOW_SID: sim.ukFlow,
    TWILIO_API_BASE: sim.url, TWILIO_CPS: '20', ...extra,
  };
}

async function finished(vx, sid) {
  await eventually(async () => {
    const r = await vx.get(`/api/calls/${sid}`);
    return r.status === 200 && TERMINAL.includes(r.body.data.status);
  }, 20000, `call ${sid} to end`);
  await vx.settled();
  return (await vx.get(`/api/calls/${sid}`)).body.data;
}

async function streamEvents(vx, sid) {
  return (await vx.get(`/api/calls/${sid}/events`)).body.data;
}

// A webhook signed as Twilio signs it, but with `token`: form (a status callback) or JSON (Studio's request).
async function signedPost(vx, path, body, token) {
  if (typeof body === 'string') {
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded',
      ...signForm(token, vx.url + path, Object.fromEntries(new URLSearchParams(body))) };
    return fetch(vx.url + path, { method: 'POST', headers, body });
  }
  const raw = JSON.stringify(body);
  const signed = signJson(token, vx.url + path, raw);
  return fetch(signed.url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...signed.headers }, body: raw });
}

function assertProblem(r, body, status, pattern) {
  assert.equal(r.status, status, JSON.stringify(body));
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(body.status, status);
  assert.match(body.detail, pattern);
}

function assertNoSecret(text, what) {
  for (const token of [PL.token, UK.token]) assert.ok(!text.includes(token), `${what} shows an auth token`);
}

test('calls on two accounts: each through its own account, caller ID and flow, recorded, shown in the views', async (t) => {
  const sim = await startSimulator();
  t.after(() => sim.proc.kill('SIGKILL'));
  const vx = await startVoxlogd({ env: twoAccounts(sim) });
  t.after(() => vx.stop());

  await sim.script({ to: '+447911000001', answer: 'human', digits: '1' });
  await sim.script({ to: '+48601000002', answer: 'human', digits: '2' });
  const uk = await vx.post('/api/calls/start', { to: '+447911000001', region: 'uk' });
  assert.equal(uk.status, 200, JSON.stringify(uk.body));
  assert.equal(uk.body.data.region, 'uk');
  assert.equal(uk.body.data.account, 'uk');
  const pl = await vx.post('/api/calls/start', { to: '+48601000002' });  // no region: the default account
  assert.equal(pl.status, 200, JSON.stringify(pl.body));
  assert.equal(pl.body.data.region, 'poland');
  assert.equal(pl.body.data.account, 'default');
  const byName = await vx.post('/api/calls/start', { to: '+447911000003', account: 'UK' });  // names are case-blind
  assert.equal(byName.status, 200, JSON.stringify(byName.body));
  assert.equal(byName.body.data.account, 'uk');

  const ukRow = await finished(vx, uk.body.data.execution_sid);
  const plRow = await finished(vx, pl.body.data.execution_sid);
  await finished(vx, byName.body.data.execution_sid);
  // Each call ran in its own account's flow, from its caller ID, and every webhook (signed by the simulator
  // with that account's token) was taken: the flows got to their outcomes.
  assert.equal(ukRow.account, 'uk');
  assert.equal(ukRow.region, 'uk');
  assert.equal(ukRow.from, UK.from);
  assert.equal(ukRow.outcome, 'confirmed');
  assert.equal(plRow.account, 'default');
  assert.equal(plRow.region, 'poland');
  assert.equal(plRow.from, PL.from);
  assert.equal(plRow.outcome, 'cancelled');
  const executions = await sim.executions();
  const ukExecution = executions.find((e) => e.sid === uk.body.data.execution_sid);
  const plExecution = executions.find((e) => e.sid === pl.body.data.execution_sid);
  assert.equal(ukExecution.account_sid, UK.sid);
  assert.equal(ukExecution.flow_sid, sim.ukFlow);
  assert.equal(ukExecution.from, UK.from);
  assert.equal(plExecution.account_sid, PL.sid);
  assert.equal(plExecution.flow_sid, sim.plFlow);

  // The account is in the call's events: replay and every reader know it.
  const ukEvents = await streamEvents(vx, uk.body.data.execution_sid);
  const created = ukEvents.find((e) => e.type === 'ExecutionCreated');
  assert.equal(created.data.account, 'uk');
  assert.equal(created.data.region, 'uk');
  assert.equal(created.data.flow_sid, sim.ukFlow);
  const received = ukEvents.filter((e) => e.type === 'WebhookReceived');
  assert.ok(received.length >= 3, 'the flow reported its steps');
  for (const e of received) assert.equal(e.data.account, 'uk', 'verified with the uk account\'s token');
  for (const e of (await streamEvents(vx, pl.body.data.execution_sid)).filter((e) => e.type === 'WebhookReceived'))
    assert.equal(e.data.account, 'default');

  // The Node app's history and the Call view list show the region.
  const history = (await vx.get('/api/calls/history?limit=10')).body.data;
  assert.equal(history.find((c) => c.executionSid === uk.body.data.execution_sid).region, 'uk');
  assert.equal(history.find((c) => c.executionSid === pl.body.data.execution_sid).region, 'poland');
  const list = (await vx.get('/api/calls?limit=10')).body.data;
  assert.equal(list.find((c) => c.executionSid === uk.body.data.execution_sid).account, 'uk');

  // The configuration dump names both accounts and shows no token.
  assert.match(vx.output(), /accounts=default:poland\(AC\.\.\.1111 auth_token=set from=\+48221234567 flow=FW\w+\),uk:uk\(AC\.\.\.2222 auth_token=set/);
  assertNoSecret(vx.output(), 'the log');
  assertNoSecret(await (await fetch(vx.url + '/metrics')).text(), '/metrics');
});

test('a webhook is verified against its own call\'s account: the other account\'s token or an unknown AccountSid gets 403', async (t) => {
  const sim = await startSimulator();
  t.after(() => sim.proc.kill('SIGKILL'));
  const vx = await startVoxlogd({ env: twoAccounts(sim) });
  t.after(() => vx.stop());
  await sim.script({ to: '+447911000011', answer: 'busy' });
  await sim.script({ to: '+48601000012', answer: 'busy' });
  const uk = (await vx.post('/api/calls/start', { to: '+447911000011', region: 'uk' })).body.data.execution_sid;
  const pl = (await vx.post('/api/calls/start', { to: '+48601000012', region: 'poland' })).body.data.execution_sid;
  const ukRow = await finished(vx, uk);
  const plRow = await finished(vx, pl);
  const before = { uk: (await streamEvents(vx, uk)).length, pl: (await streamEvents(vx, pl)).length };
  const seqBefore = (await vx.settled()).lastSeq;

  // Studio's JSON request about the uk call, signed with the poland token: the call refuses it.
  const dtmf = (sid, callSid) => ({ event: 'dtmf', widget_name: 'reminder', execution_sid: sid, call_sid: callSid,
    digits: '1', attempt: '1', timestamp: String(Math.floor(Date.now() / 1000)) });
  let r = await signedPost(vx, '/api/calls/webhooks/dtmf', dtmf(uk, ukRow.callSid), PL.token);
  let body = await r.json();
  assertProblem(r, body, 403, /account 'default'.*placed through account 'uk'/);
  assertNoSecret(JSON.stringify(body), 'the problem');
  // And the poland call refuses the uk token.
  r = await signedPost(vx, '/api/calls/webhooks/dtmf', dtmf(pl, plRow.callSid), UK.token);
  assertProblem(r, await r.json(), 403, /account 'uk'.*placed through account 'default'/);

  // A status callback names its account: signed with another account's token it does not verify.
  const status = (accountSid, callSid) => new URLSearchParams({ AccountSid: accountSid, CallSid: callSid,
    CallStatus: 'completed', Direction: 'outbound-api', SequenceNumber: '9', To: '+447911000011', From: UK.from }).toString();
  r = await signedPost(vx, '/api/calls/webhooks/status', status(UK.sid, ukRow.callSid), PL.token);
  assertProblem(r, await r.json(), 403, /X-Twilio-Signature does not match/);
  // An AccountSid that is none of the server's accounts is refused, whatever token signed it.
  const stranger = 'AC' + 'f'.repeat(32);
  r = await signedPost(vx, '/api/calls/webhooks/status', status(stranger, ukRow.callSid), UK.token);
  body = await r.json();
  assertProblem(r, body, 403, new RegExp(`AccountSid '${stranger}' is not one of this server's Twilio accounts`));
  assert.equal(body.code, 'permission_denied');

  // Nothing of the refused requests was recorded.
  await vx.settled();
  assert.equal((await streamEvents(vx, uk)).length, before.uk);
  assert.equal((await streamEvents(vx, pl)).length, before.pl);
  assert.equal((await vx.settled()).lastSeq, seqBefore);

  // The right token is taken: the same dtmf signed with the uk token is recorded (controls the refusals above).
  r = await signedPost(vx, '/api/calls/webhooks/dtmf', dtmf(uk, ukRow.callSid), UK.token);
  assert.equal(r.status, 200, await r.text());
  await vx.settled();
  assert.ok((await streamEvents(vx, uk)).length > before.uk);
  r = await signedPost(vx, '/api/calls/webhooks/status', status(UK.sid, ukRow.callSid), UK.token);
  assert.equal(r.status, 200, await r.text());

  // An inbound call to the uk number: its account and region are those whose token signed its callbacks.
  const inbound = 'CA' + 'e'.repeat(32);
  r = await signedPost(vx, '/api/calls/webhooks/status', new URLSearchParams({ AccountSid: UK.sid, CallSid: inbound,
    CallStatus: 'ringing', Direction: 'inbound', SequenceNumber: '0', From: '+447700900123', To: UK.from }).toString(), UK.token);
  assert.equal(r.status, 200, await r.text());
  const row = (await vx.get(`/api/calls/${inbound}`)).body.data;
  assert.equal(row.account, 'uk');
  assert.equal(row.region, 'uk');
});

test('region or account on start-bulk and campaigns picks the account of all their calls; an unknown one is a 400 naming the valid ones', async (t) => {
  const sim = await startSimulator();
  t.after(() => sim.proc.kill('SIGKILL'));
  const vx = await startVoxlogd({ env: twoAccounts(sim) });
  t.after(() => vx.stop());
  const numbers = ['+447911000021', '+447911000022'];
  for (const to of [...numbers, '+447911000023', '+447911000024']) await sim.script({ to, answer: 'human', digits: '1' });

  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: numbers, region: 'uk' });
  assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
  assert.equal(bulk.body.data.region, 'uk');
  const campaign = await vx.post('/api/campaigns', { name: 'uk reminders', account: 'uk',
    contacts: [{ phone: '+447911000023' }] });
  assert.equal(campaign.status, 201, JSON.stringify(campaign.body));
  assert.equal(campaign.body.data.account, 'uk');
  const csv = await fetch(vx.url + '/api/campaigns?name=csv&region=uk', { method: 'POST',
    headers: { 'Content-Type': 'text/csv' }, body: 'phone\n+447911000024\n' });
  const csvBody = await csv.json();
  assert.equal(csv.status, 201, JSON.stringify(csvBody));
  assert.equal(csvBody.data.region, 'uk');

  for (const id of [bulk.body.data.batchId, campaign.body.data.id, csvBody.data.id]) {
    const c = (await vx.get(`/api/campaigns/${id}`)).body.data;
    assert.equal(c.account, 'uk', id);
    assert.equal(c.region, 'uk', id);
  }
  // Every call of theirs went through the uk account.
  const calls = await eventually(async () => {
    const list = (await vx.get('/api/calls?limit=50')).body.data;
    return list.length === 4 && list.every((c) => TERMINAL.includes(c.status)) ? list : null;
  }, 30000, 'the four campaign calls to end');
  for (const c of calls) {
    assert.equal(c.account, 'uk', c.to);
    assert.equal(c.from, UK.from, c.to);
  }
  const executions = await sim.executions();
  assert.equal(executions.length, 4);
  for (const e of executions) assert.equal(e.account_sid, UK.sid);

  // Unknown names: 400, naming the valid ones, nothing placed or recorded.
  const seq = (await vx.settled()).lastSeq;
  const refusals = [
    [await vx.post('/api/calls/start', { to: '+447911000031', region: 'mars' }), /unknown region 'mars': the regions are poland, uk/],
    [await vx.post('/api/calls/start', { to: '+447911000031', account: 'nope' }), /unknown account 'nope': the accounts are default, uk/],
    [await vx.post('/api/calls/start', { to: '+447911000031', account: 'uk', region: 'poland' }), /account 'uk' does not serve region 'poland'/],
    [await vx.post('/api/calls/start', { to: '+447911000031', region: 7 }), /'region' must be a string/],
    [await vx.post('/api/calls/start-bulk', { phoneNumbers: ['+447911000031'], region: 'mars' }), /unknown region 'mars'/],
    [await vx.post('/api/campaigns', { name: 'x', account: 'mars', contacts: [{ phone: '+447911000031' }] }), /unknown account 'mars'/],
  ];
  for (const [r, pattern] of refusals) {
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.match(r.body.detail, pattern);
    assert.equal(r.body.error, r.body.detail);
  }
  const csvRefused = await fetch(vx.url + '/api/campaigns?name=csv&account=mars', { method: 'POST',
    headers: { 'Content-Type': 'text/csv' }, body: 'phone\n+447911000031\n' });
  assert.equal(csvRefused.status, 400);
  assert.match((await csvRefused.json()).detail, /unknown account 'mars'/);
  assert.equal((await vx.settled()).lastSeq, seq, 'nothing recorded');
  assert.equal((await sim.executions()).length, 4, 'nothing placed');
});

test('the built-in simulator plays every configured account, each signing with its own token', async (t) => {
  const UK_SIM_TOKEN = 'uk-simulated-token-0123456789abcdef';
  const vx = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.002', TWILIO_REGION: 'poland', TWILIO_ACCOUNTS: 'uk',
    TWILIO_UK_AUTH_TOKEN: UK_SIM_TOKEN, TWILIO_UK_PHONE_NUMBER: UK.from } });
  t.after(() => vx.stop());
  const simUrl = (await vx.get('/healthz')).body.simulatorUrl;
  const script = (s) => fetch(simUrl + '/__sim/script', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) });
  await script({ to: '+447911000041', answer: 'human', digits: '1' });
  await script({ to: '+48601000042', answer: 'human', digits: '1' });
  const uk = (await vx.post('/api/calls/start', { to: '+447911000041', region: 'uk' })).body.data.execution_sid;
  const pl = (await vx.post('/api/calls/start', { to: '+48601000042' })).body.data.execution_sid;
  const ukRow = await finished(vx, uk);
  const plRow = await finished(vx, pl);
  assert.equal(ukRow.outcome, 'confirmed');
  assert.equal(ukRow.region, 'uk');
  assert.equal(ukRow.from, UK.from);
  assert.equal(plRow.outcome, 'confirmed');
  assert.equal(plRow.region, 'poland');
  const executions = (await (await fetch(simUrl + '/__sim/executions')).json()).executions;
  const accountOf = (sid) => executions.find((e) => e.sid === sid).account_sid;
  assert.notEqual(accountOf(uk), accountOf(pl), 'two simulated accounts');
  for (const e of (await streamEvents(vx, uk)).filter((e) => e.type === 'WebhookReceived')) assert.equal(e.data.account, 'uk');
  // The uk call refuses the default account's token (the harness signs with TWILIO_AUTH_TOKEN).
  const r = await vx.post('/api/calls/webhooks/dtmf', { event: 'dtmf', execution_sid: uk, call_sid: ukRow.callSid, digits: '2',
    timestamp: '1' });
  assert.equal(r.status, 403, JSON.stringify(r.body));
  assert.ok(!vx.output().includes(UK_SIM_TOKEN), 'the log shows no token');
});

test('the dashboard shows each call\'s region', async (t) => {
  const vx = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.002', TWILIO_REGION: 'poland', TWILIO_ACCOUNTS: 'uk',
    TWILIO_UK_AUTH_TOKEN: 'uk-simulated-token-0123456789abcdef' } });
  t.after(() => vx.stop());
  const uk = (await vx.post('/api/calls/start', { to: '+447911000051', region: 'uk' })).body.data.execution_sid;
  const pl = (await vx.post('/api/calls/start', { to: '+48601000052' })).body.data.execution_sid;
  await finished(vx, uk);
  await finished(vx, pl);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, problems } = await openDashboard(browser, vx.url);
  await page.locator('body[data-ready="true"]').waitFor();
  const ukRegion = rowsFor(page, '+447911000051').locator('td.number .region');
  await ukRegion.waitFor();
  assert.equal((await ukRegion.textContent()).trim(), 'uk');
  assert.equal(await ukRegion.getAttribute('title'), 'Twilio account: uk');
  assert.equal((await rowsFor(page, '+48601000052').locator('td.number .region').textContent()).trim(), 'poland');
  assert.deepEqual(problems, []);
});

test('the accounts\' configuration is checked at start, naming the variable and never a token', async () => {
  const real = { TWILIO_ACCOUNT_SID: PL.sid, TWILIO_AUTH_TOKEN: PL.token, TWILIO_ACCOUNTS: 'uk' };
  const cases = [
    [{ ...real }, /account 'uk' needs TWILIO_UK_ACCOUNT_SID and TWILIO_UK_AUTH_TOKEN/],
    [{ ...real, TWILIO_UK_ACCOUNT_SID: UK.sid, TWILIO_UK_AUTH_TOKEN: PL.token }, /accounts 'default' and 'uk' have the same auth token/],
    [{ ...real, TWILIO_UK_ACCOUNT_SID: 'XX123', TWILIO_UK_AUTH_TOKEN: UK.token }, /TWILIO_UK_ACCOUNT_SID='XX123' must start with AC/],
    [{ ...real, TWILIO_ACCOUNTS: 'u k!' }, /TWILIO_ACCOUNTS entry 'u k!'/],
    [{ ...real, TWILIO_ACCOUNTS: 'uk,gb:uk', TWILIO_UK_ACCOUNT_SID: UK.sid, TWILIO_UK_AUTH_TOKEN: UK.token,
      TWILIO_GB_ACCOUNT_SID: 'AC' + '3'.repeat(32), TWILIO_GB_AUTH_TOKEN: 'gb-token-0123456789abcdef' }, /two accounts serve the region 'uk'/],
    [{ ...real, TWILIO_REGION: 'Pol and' }, /TWILIO_REGION='pol and'/],
  ];
  for (const [env, pattern] of cases) {
    const r = await runUntilExit(env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, pattern);
    assertNoSecret(r.stdout + r.stderr, 'a start-up error');
  }
});
