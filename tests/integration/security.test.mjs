// Issue 14: safe by default. Each test names the item it proves; each fails without what it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { startVoxlogd, runUntilExit, eventually, WEBHOOK_TOKEN } from '../lib/voxlogd.mjs';
import { signJson } from '../lib/twilio.mjs';

const FN = 'FN' + 'c3'.repeat(16);
const CA = 'CA' + 'd4'.repeat(16);
const TO = '+447911123456';
const TOKENS = {
  viewer: 'wallboard-secret-0123456789',
  operator: 'desk-secret-0123456789',
  admin: 'boss-secret-0123456789',
  metrics: 'scrape-secret-0123456789',
};
const ROLE_ENV = {
  API_TOKENS: `wallboard:viewer:${TOKENS.viewer},desk:operator:${TOKENS.operator},boss:admin:${TOKENS.admin}`,
  METRICS_TOKEN: TOKENS.metrics,
  BIND_ADDRESS: '127.0.0.1',
};
const bearer = (role) => ({ Authorization: `Bearer ${TOKENS[role]}` });

// Runs voxlogd expecting it to refuse to start: resolves to {code, output}.
async function refusedStart(env) {
  const { code, stdout, stderr } = await runUntilExit(env);
  return { code, output: stdout + stderr };
}

// A request through node:http, which lets a test set Host like any client can.
function rawRequest(vx, { method = 'GET', path = '/healthz', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: vx.port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function wsStatus(url, options = {}) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, options);
    socket.once('open', () => { socket.close(); resolve(101); });
    socket.once('unexpected-response', (_req, res) => resolve(res.statusCode));
    socket.once('error', () => resolve(0));
  });
}

function dtmf(digits, action, at) {
  return { execution_sid: FN, call_sid: CA, to: TO, event: 'dtmf_action', widget_name: 'reminder', digits, action, timestamp: String(at) };
}

async function logEvents(vx, headers = {}) {
  const res = await vx.get('/api/events?after=0&limit=1000', headers);
  assert.equal(res.status, 200);
  return res.body.events;
}

test('1. defaults: no token binds 127.0.0.1 and says so; a public bind without a token refuses to start', async (t) => {
  const vx = await startVoxlogd({ env: { BIND_ADDRESS: '' } });
  t.after(() => vx.stop());
  assert.match(vx.output(), /voxlogd listening on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(vx.output(), /no API token set: serving this machine only \(127\.0\.0\.1\)/);

  const refused = await refusedStart({ BIND_ADDRESS: '0.0.0.0' });
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /BIND_ADDRESS='0\.0\.0\.0'.*set API_TOKEN/);
  assert.doesNotMatch(refused.output, /listening on/);
  const unverified = await refusedStart({ BIND_ADDRESS: '0.0.0.0', API_TOKEN: TOKENS.admin, VERIFY_WEBHOOKS: 'off' });
  assert.notEqual(unverified.code, 0);
  assert.match(unverified.output, /VERIFY_WEBHOOKS=off is honoured on a loopback BIND_ADDRESS only/);
  assert.doesNotMatch(unverified.output, new RegExp(TOKENS.admin));
});

test('2. webhooks are always verified, in simulator mode too; VERIFY_WEBHOOKS=off only on loopback, loudly', async (t) => {
  const vx = await startVoxlogd();  // simulator mode: no Twilio account
  t.after(() => vx.stop());
  const body = { execution_sid: FN, call_sid: CA, event: 'answered', call_status: 'in-progress', timestamp: '1' };
  const unsigned = await vx.post('/api/calls/webhooks/status', body, { 'X-Twilio-Signature': '' });
  assert.equal(unsigned.status, 403);
  const raw = JSON.stringify(body);
  const forged = signJson('a-token-guessed-by-an-attacker', vx.url + '/api/calls/webhooks/status', raw);
  const forgedRes = await fetch(vx.url + forged.url.slice(vx.url.length), {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...forged.headers }, body: raw });
  assert.equal(forgedRes.status, 403);
  assert.equal((await vx.get('/healthz')).body.lastSeq, 0, 'refused webhooks record nothing');
  // The embedded simulator signs what it sends with the token voxlogd gave it: a call goes through.
  const started = await vx.post('/api/calls/start', { to: TO });
  assert.equal(started.status, 200);
  const sid = started.body.data.execution_sid;
  const ended = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
  await eventually(async () => ended.includes((await vx.get(`/api/calls/${sid}`)).body.data?.status), 20000, 'the simulated call to end');
  const trail = (await vx.get(`/api/calls/${sid}/events`)).body.data;
  assert.ok(trail.some((e) => e.type === 'WebhookReceived' && e.source === 'twilio-webhook'), 'the simulator\'s signed webhooks were accepted');

  const open = await startVoxlogd({ env: { VERIFY_WEBHOOKS: 'off' } });
  t.after(() => open.stop());
  assert.match(open.output(), /WARNING: VERIFY_WEBHOOKS=off: webhooks are NOT verified/);
  const accepted = await open.post('/api/calls/webhooks/status', body, { 'X-Twilio-Signature': '' });
  assert.equal(accepted.status, 200);
});

test('3. a signed press replayed with a new idempotency header is a duplicate: the last real press wins', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const confirm = dtmf('1', 'confirm_appointment', 1700000000);
  const cancel = dtmf('2', 'cancel_appointment', 1700000005);
  assert.equal((await vx.post('/api/calls/webhooks/dtmf', confirm, { 'I-Twilio-Idempotency-Token': 'a' })).body.duplicate, false);
  assert.equal((await vx.post('/api/calls/webhooks/dtmf', cancel, { 'I-Twilio-Idempotency-Token': 'b' })).body.duplicate, false);
  for (const header of ['c', 'd', '']) {
    const replay = await vx.post('/api/calls/webhooks/dtmf', confirm, header ? { 'I-Twilio-Idempotency-Token': header } : {});
    assert.equal(replay.status, 200);
    assert.equal(replay.body.duplicate, true, `replay with header '${header}'`);
  }
  const row = (await vx.get(`/api/calls/${FN}`)).body.data;
  assert.equal(row.outcome, 'cancelled', 'the replayed "press 1" did not flip the outcome');
  const received = (await vx.get(`/api/calls/${FN}/events`)).body.data.filter((e) => e.type === 'WebhookReceived');
  assert.equal(received.length, 2, 'each real press recorded once');
  assert.equal(received[0].data.idempotency_token, 'a', 'the header is recorded with the event');
});

test('4. cross-site: text/plain starts get 415, foreign Origins and Hosts are refused, upgrades check Origin', async (t) => {
  const vx = await startVoxlogd({ env: { ALLOWED_ORIGINS: 'https://dash.example' } });
  t.after(() => vx.stop());
  const before = (await vx.get('/healthz')).body.lastSeq;
  const plain = await fetch(vx.url + '/api/calls/start', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ to: TO }) });
  assert.equal(plain.status, 415);
  assert.match(plain.headers.get('content-type'), /problem\+json/);
  const form = await fetch(vx.url + '/api/calls/start-bulk', { method: 'POST', body: new URLSearchParams({ phoneNumbers: TO }) });
  assert.equal(form.status, 415);
  const foreign = await vx.post('/api/calls/start', { to: TO }, { Origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.match(foreign.body.detail, /origin 'https:\/\/evil.example'/);
  const foreignRead = await vx.get('/api/calls', { Origin: 'https://evil.example' });
  assert.equal(foreignRead.status, 403);
  const sameOrigin = await vx.get('/api/calls', { Origin: vx.url });  // the dashboard voxlogd serves
  assert.equal(sameOrigin.status, 200);
  const allowed = await vx.get('/api/calls', { Origin: 'https://dash.example' });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://dash.example');

  const rebound = await rawRequest(vx, { path: '/api/calls', headers: { Host: `attacker.example:${vx.port}` } });
  assert.equal(rebound.status, 421);
  assert.match(rebound.text, /ALLOWED_HOSTS/);
  assert.equal((await rawRequest(vx, { headers: { Host: `localhost:${vx.port}` } })).status, 200);
  assert.equal((await vx.get('/healthz')).body.lastSeq, before, 'nothing refused was recorded');

  const ws = vx.url.replace('http', 'ws');
  assert.equal(await wsStatus(`${ws}/ws`, { origin: 'https://evil.example' }), 403);
  assert.equal(await wsStatus(`${ws}/socket.io/?EIO=4&transport=websocket`, { origin: 'https://evil.example' }), 403);
  assert.equal(await wsStatus(`${ws}/ws`, { origin: 'https://dash.example' }), 101);
  assert.equal(await wsStatus(`${ws}/ws`, { origin: vx.url }), 101);
  assert.equal(await wsStatus(`${ws}/ws`), 101, 'a client that is not a browser sends no Origin');
});

test('4. ALLOWED_ORIGINS=* needs a token and never comes with credentials', async (t) => {
  const refused = await refusedStart({ ALLOWED_ORIGINS: '*' });
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /ALLOWED_ORIGINS='\*' needs API_TOKEN/);
  const vx = await startVoxlogd({ env: { ...ROLE_ENV, ALLOWED_ORIGINS: '*' } });
  t.after(() => vx.stop());
  const res = await vx.get('/api/calls', { Origin: 'https://anywhere.example', ...bearer('viewer') });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('access-control-allow-credentials'), null);
});

test('5. roles: viewer reads, operator places calls, admin exports; metrics and healthz; who is recorded', async (t) => {
  const vx = await startVoxlogd({ env: ROLE_ENV });
  t.after(() => vx.stop());
  assert.doesNotMatch(vx.output(), /secret-0123456789/, 'no token in the log');
  assert.match(vx.output(), /tokens=wallboard:viewer,desk:operator,boss:admin,metrics:metrics/);

  assert.equal((await vx.get('/api/calls')).status, 401);
  assert.equal((await vx.get('/api/calls', { Authorization: 'Bearer wrong-secret-0123456789' })).status, 401);
  assert.equal((await vx.get('/api/calls', bearer('viewer'))).status, 200);
  assert.equal((await vx.get(`/api/calls?token=${TOKENS.viewer}`)).status, 401, 'no query token on REST routes');
  const viewerStart = await vx.post('/api/calls/start', { to: TO }, bearer('viewer'));
  assert.equal(viewerStart.status, 403);
  assert.match(viewerStart.body.detail, /token 'wallboard' has role viewer; this needs operator/);
  assert.equal((await vx.get('/api/calls/history/export/all', bearer('operator'))).status, 403);
  assert.equal((await vx.get('/api/calls/history/export/all', bearer('admin'))).status, 200);
  assert.equal((await vx.get('/api/calls', bearer('metrics'))).status, 403, 'a scraper reads no numbers');

  assert.equal((await vx.get('/metrics')).status, 401);
  assert.equal((await vx.get('/metrics', bearer('metrics'))).status, 200);
  assert.equal((await vx.get('/metrics', bearer('viewer'))).status, 200);
  assert.deepEqual((await vx.get('/healthz')).body, { status: 'ok' }, 'healthz says no more than ok without a token');
  assert.ok('lastSeq' in (await vx.get('/healthz', bearer('viewer'))).body);

  // WebSockets may carry the token in the query (browsers cannot set headers there).
  const ws = vx.url.replace('http', 'ws');
  assert.equal(await wsStatus(`${ws}/ws`), 401);
  assert.equal(await wsStatus(`${ws}/ws?token=${TOKENS.viewer}`), 101);
  assert.equal(await wsStatus(`${ws}/ws`, { headers: bearer('viewer') }), 101);
  assert.equal(await wsStatus(`${ws}/ws?token=${TOKENS.metrics}`), 403);

  // The audit trail says who: the operator's token name on the request, the batch and its pause.
  const single = await vx.post('/api/calls/start', { to: TO }, bearer('operator'));
  assert.equal(single.status, 200);
  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: ['+447911123457', '+447911123458'] }, bearer('admin'));
  assert.equal(bulk.status, 200);
  const pause = await vx.post(`/api/campaigns/${bulk.body.data.batchId}/pause`, undefined, bearer('operator'));
  assert.ok([200, 404].includes(pause.status), JSON.stringify(pause.body));  // 404: the batch already finished
  const events = await logEvents(vx, bearer('viewer'));
  const requested = events.filter((e) => e.type === 'CallRequested');
  assert.equal(requested.find((e) => e.data.to === TO).data.by, 'desk');
  assert.equal(events.find((e) => e.type === 'CampaignCreated').data.by, 'boss');
  for (const e of requested.filter((e) => e.data.batch_id)) assert.equal(e.data.by, 'boss');
  if (pause.status === 200) assert.equal(events.find((e) => e.type === 'CampaignPaused').data.by, 'desk');
});

test('6. limits: 413 on every route, 431 for headers, 429 with Retry-After, Retry-After on 503', async (t) => {
  const vx = await startVoxlogd({ env: { MAX_API_BODY_BYTES: '4096', MAX_HEADER_BYTES: '4096', RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_MIN: '1' } });
  t.after(() => vx.stop());
  const before = (await vx.get('/healthz')).body.lastSeq;
  const big = await vx.post('/api/calls/start-bulk', { phoneNumbers: Array(400).fill('+447911123456') });
  assert.equal(big.status, 413);
  assert.match(big.body.detail, /MAX_API_BODY_BYTES \(4096 bytes\)/);
  const huge = await vx.post('/api/calls/start', { to: TO, pad: 'x'.repeat(2 << 20) });  // 2 MB
  assert.equal(huge.status, 413);
  const longHeader = await rawRequest(vx, { path: '/api/calls', headers: { 'X-Padding': 'y'.repeat(100 * 1024) } });
  assert.equal(longHeader.status, 431);
  const longUrl = await rawRequest(vx, { path: '/api/calls?q=' + 'z'.repeat(9000) });
  assert.equal(longUrl.status, 414);
  assert.equal((await vx.get('/healthz')).body.lastSeq, before, 'refused requests record nothing');

  for (let i = 0; i < 2; i++) assert.equal((await vx.post('/api/calls/start', { to: `+44791112346${i}` })).status, 200);
  const limited = await vx.post('/api/calls/start', { to: '+447911123469' });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  const events = await logEvents(vx);
  assert.ok(!events.some((e) => e.data.to === '+447911123469'), 'a refused call is never requested');
  assert.equal((await vx.get('/api/calls')).status, 200, 'reads are not rate-limited');

  // Twilio unreachable (a live account pointed at a closed port): the start is a 503 with Retry-After.
  const live = await startVoxlogd({ env: { TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32), TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN,
    TWILIO_FLOW_SID: 'FW' + '0'.repeat(32), TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE: 'http://127.0.0.1:9' } });
  t.after(() => live.stop());
  const unavailable = await live.post('/api/calls/start', { to: TO });
  assert.equal(unavailable.status, 503, JSON.stringify(unavailable.body));
  assert.ok(Number(unavailable.headers.get('retry-after')) >= 1);
});

test('6. limits: the connection cap refuses the surplus with 503; a half-sent request is dropped after HEADER_TIMEOUT_MS', async (t) => {
  const vx = await startVoxlogd({ env: { MAX_CONNECTIONS: '3', HEADER_TIMEOUT_MS: '300' } });
  t.after(() => vx.stop());
  // A client that never finishes its headers loses its connection (RESTinio's default waits 60 s).
  const slow = net.connect(vx.port, '127.0.0.1');
  await new Promise((r) => slow.once('connect', r));
  slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the half-sent request was not dropped within 10 s')), 10000);
    slow.once('close', () => { clearTimeout(timer); resolve(); });
    slow.resume();
  });

  const held = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(vx.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');  // answered, then kept open (keep-alive)
    await new Promise((r) => s.once('data', r));
    held.push(s);
  }
  // A fourth connection is refused at once, with a status and Retry-After (not left waiting, not reset).
  const refused = await rawRequest(vx, { path: '/healthz', headers: { Connection: 'close' } });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '1');
  held.shift().destroy();
  await eventually(async () => (await rawRequest(vx, { path: '/healthz', headers: { Connection: 'close' } })).status === 200,
    10000, 'served once a connection closed');
  for (const s of held) s.destroy();
});
