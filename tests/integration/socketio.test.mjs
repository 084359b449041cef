// Issue 6: the Node app's clients against the real voxlogd, through the official socket.io-client from npm:
// Engine.IO v4 / Socket.IO v5 at /socket.io/ (polling then upgrade, websocket only), ping/pong, several
// clients, each event with its payload, CORS, resuming after an offset (also across a restart).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { io } from 'socket.io-client';
import { startVoxlogd, eventually, sleep } from '../lib/voxlogd.mjs';

// Short pings so the tests see several; a timeout generous enough for a busy CI machine.
const PING_ENV = { SOCKETIO_PING_INTERVAL_MS: '200', SOCKETIO_PING_TIMEOUT_MS: '2000' };
const TO = '+447700900123';
let counter = 0;

function sids() {
  counter += 1;
  const n = String(counter).padStart(2, '0');
  return { fn: 'FN' + n.repeat(16), ca: 'CA' + n.repeat(16) };
}

function statusCallback(ca, status, sequence, extra = {}) {
  return new URLSearchParams({
    AccountSid: 'AC' + '0'.repeat(32), CallSid: ca, CallStatus: status, Direction: 'outbound-api',
    From: '+15005550006', To: TO, SequenceNumber: String(sequence), ...extra,
  });
}

function flowBody(fn, ca, event, extra = {}) {
  return { execution_sid: fn, flow_sid: 'FW' + '0'.repeat(32), call_sid: ca, to: TO, from: '+15005550006',
    event, widget_name: 'call', timestamp: String(Date.now()) + Math.random(), ...extra };
}

// A socket.io-client socket that records every event as {name, payload, offset}.
function connect(vx, options = {}) {
  const socket = io(vx.url, { reconnection: false, ...options });
  socket.received = [];
  socket.onAny((name, payload, offset) => socket.received.push({ name, payload, offset }));
  socket.connected$ = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

function named(socket, name) {
  return socket.received.filter((e) => e.name === name);
}

async function post(vx, path, body) {
  const r = await vx.post(path, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.seq;
}

test('default options: handshake over polling, upgrade to websocket, pings at the advertised interval, clean close', async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const socket = connect(vx);
  const transports = [];
  socket.io.on('open', () => transports.push(socket.io.engine.transport.name));
  await socket.connected$;
  assert.deepEqual(transports, ['polling']);
  const engine = socket.io.engine;
  assert.equal(engine._pingInterval ?? engine.pingInterval, 200);
  assert.equal(engine._pingTimeout ?? engine.pingTimeout, 2000);
  await new Promise((resolve) => (engine.transport.name === 'websocket' ? resolve() : engine.once('upgrade', resolve)));
  assert.equal(engine.transport.name, 'websocket');
  let pings = 0;
  engine.on('ping', () => pings++);
  await sleep(1100);
  // 200 ms interval over 1.1 s: about five; the connection survived them (each answered with a pong).
  assert.ok(pings >= 3, `only ${pings} pings`);
  assert.equal(socket.connected, true);
  assert.equal((await vx.get('/healthz')).body.subscribers, 1);
  socket.disconnect();
  await eventually(async () => (await vx.get('/healthz')).body.subscribers === 0, 5000, 'the subscriber to leave');
});

test('websocket-only and websocket-first clients, several at once, get the same events in log order', async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const sockets = [
    connect(vx),
    connect(vx, { transports: ['websocket'] }),
    connect(vx, { transports: ['websocket', 'polling'] }),
    connect(vx, { transports: ['polling'] }),
    connect(vx, { transports: ['websocket'] }),
  ];
  t.after(() => sockets.forEach((s) => s.disconnect()));
  await Promise.all(sockets.map((s) => s.connected$));
  assert.equal(sockets[1].io.engine.transport.name, 'websocket');
  assert.equal(sockets[3].io.engine.transport.name, 'polling');
  const { ca } = sids();
  const seqs = [];
  for (const [status, n] of [['initiated', 1], ['ringing', 2], ['in-progress', 3], ['completed', 4]])
    seqs.push(await post(vx, '/api/calls/webhooks/status', statusCallback(ca, status, n, { CallDuration: '7' })));
  for (const s of sockets) {
    await eventually(() => named(s, 'statusUpdate').length === 4, 5000, 'four statusUpdates');
    assert.deepEqual(named(s, 'statusUpdate').map((e) => e.payload.status), ['initiated', 'ringing', 'in-progress', 'completed']);
    // Each status change is committed right after its webhook: seq = the webhook's reply seq.
    assert.deepEqual(named(s, 'statusUpdate').map((e) => e.offset), seqs.map(String));
  }
  assert.ok(sockets.every((s) => s.connected));
});

test('each event type with the Node app payload after the matching webhook', async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const socket = connect(vx, { transports: ['websocket'] });
  t.after(() => socket.disconnect());
  await socket.connected$;
  const { fn, ca } = sids();

  await post(vx, '/api/calls/webhooks/status', flowBody(fn, ca, 'answered', { call_status: 'in-progress' }));
  const status = await eventually(() => named(socket, 'statusUpdate')[0], 5000, 'statusUpdate');
  assert.equal(status.payload.execution_sid, fn);
  assert.equal(status.payload.CallStatus, 'in-progress');
  assert.equal(status.payload.status, 'in-progress');
  assert.equal(status.payload.event, 'in-progress');
  assert.equal(status.payload.To, TO);
  assert.equal(status.payload.to, TO);
  assert.ok('DialCallStatus' in status.payload);
  assert.match(status.payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // A key without an action, then 1 and the flow's confirm action.
  await post(vx, '/api/calls/webhooks/dtmf', flowBody(fn, ca, 'dtmf', { digits: '7', widget_name: 'reminder' }));
  const plain = await eventually(() => named(socket, 'dtmfUpdate')[0], 5000, 'dtmfUpdate for 7');
  assert.deepEqual(
    { ...plain.payload, timestamp: typeof plain.payload.timestamp, seq: typeof plain.payload.seq },
    { execution_sid: fn, digits: '7', action: null, is_action: false, to: TO, event: 'dtmf', timestamp: 'number', seq: 'number' });
  assert.ok(Math.abs(plain.payload.timestamp - Date.now()) < 60000);

  await post(vx, '/api/calls/webhooks/dtmf', flowBody(fn, ca, 'dtmf', { digits: '1', widget_name: 'reminder' }));
  await post(vx, '/api/calls/webhooks/dtmf',
    flowBody(fn, ca, 'dtmf_action', { digits: '1', action: 'confirm_appointment', widget_name: 'reminder' }));
  await eventually(() => named(socket, 'statusUpdate').length === 2, 5000, 'the action statusUpdate');
  const tail = socket.received.slice(-3);
  assert.deepEqual(tail.map((e) => [e.name, e.payload.event, e.payload.is_action]),
    [['dtmfUpdate', 'dtmf', false], ['dtmfUpdate', 'confirm_appointment', true], ['statusUpdate', 'confirm_appointment', undefined]]);
  assert.equal(tail[1].payload.action, 'confirm_appointment');
  assert.equal(tail[1].payload.digits, '1');
  assert.equal(tail[2].payload.execution_sid, fn);
  assert.equal(tail[2].payload.status, 'in-progress');
  assert.equal(tail[1].offset, tail[2].offset, 'both come from the same committed event');

  const flow = flowBody(fn, ca, 'voicemail_recorded', { recording_url: 'https://api.twilio.com/rec/RE1' });
  await post(vx, '/api/calls/webhooks/flow', flow);
  const update = await eventually(() => named(socket, 'flowUpdate')[0], 5000, 'flowUpdate');
  const { seq, ...body } = update.payload;
  assert.deepEqual(body, flow);
  assert.equal(String(seq), update.offset);
  // Offsets only grow, in log order.
  const offsets = socket.received.map((e) => Number(e.offset));
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
});

test('a batch ends with bulkCallComplete and bulkCallCompleted', async (t) => {
  const vx = await startVoxlogd({ env: { ...PING_ENV, SIM_TIME_SCALE: '0.002', TWILIO_CPS: '50' } });
  t.after(() => vx.stop());
  const socket = connect(vx);
  t.after(() => socket.disconnect());
  await socket.connected$;
  const r = await vx.post('/api/calls/start-bulk', { phoneNumbers: ['+447911123456', '+447911123457', 'not a number'] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await eventually(() => named(socket, 'bulkCallCompleted').length === 1, 20000, 'bulkCallCompleted');
  const [complete] = named(socket, 'bulkCallComplete');
  const [completed] = named(socket, 'bulkCallCompleted');
  assert.deepEqual(complete.payload, completed.payload);
  assert.equal(complete.payload.total, 3);
  assert.equal(complete.payload.success + complete.payload.failed, 3);
  assert.ok(complete.payload.failed >= 1, 'the bad number failed');
  assert.ok(Array.isArray(complete.payload.results) && Array.isArray(complete.payload.errors));
  // The simulator then runs the flow for the two good numbers; their calls are followed live too.
  await eventually(() => new Set(named(socket, 'statusUpdate').map((e) => e.payload.execution_sid)).size === 2,
    20000, `statusUpdates of both calls; got ${JSON.stringify(socket.received.map((e) => e.name))}`);
  const [succeeded] = complete.payload.results;
  assert.ok(named(socket, 'statusUpdate').some((e) => JSON.stringify(succeeded).includes(e.payload.execution_sid)));
});

test('CORS on the polling transport follows the allowed origins', async (t) => {
  const vx = await startVoxlogd({ env: { ...PING_ENV, ALLOWED_ORIGINS: 'http://localhost:3000,https://dash.example' } });
  t.after(() => vx.stop());
  const handshake = (origin) => fetch(`${vx.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: origin } });
  for (const origin of ['http://localhost:3000', 'https://dash.example']) {
    const res = await handshake(origin);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(await res.text(), /^0\{"maxPayload":\d+,"pingInterval":200,"pingTimeout":2000,"sid":"[\w-]{20}","upgrades":\["websocket"\]\}$/);
  }
  const evil = await handshake('https://evil.example');  // a foreign page gets no session at all
  assert.equal(evil.status, 403);
  assert.equal(evil.headers.get('access-control-allow-origin'), null);
  const preflight = await fetch(`${vx.url}/socket.io/?EIO=4&transport=polling`, {
    method: 'OPTIONS', headers: { Origin: 'https://dash.example', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://dash.example');
});

test('raw Engine.IO: errors for bad requests, and a client that never pongs is dropped after the timeout', async (t) => {
  const vx = await startVoxlogd({ env: { ...PING_ENV, SOCKETIO_PING_TIMEOUT_MS: '400' } });
  t.after(() => vx.stop());
  const base = `${vx.url}/socket.io/?EIO=4&transport=polling`;
  let res = await fetch(`${vx.url}/socket.io/?EIO=3&transport=polling`);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { code: 5, message: 'Unsupported protocol version' });
  res = await fetch(`${vx.url}/socket.io/?EIO=4&transport=carrier-pigeon`);
  assert.deepEqual(await res.json(), { code: 0, message: 'Transport unknown' });
  res = await fetch(`${base}&sid=nosuchsession`);
  assert.deepEqual(await res.json(), { code: 1, message: 'Session ID unknown' });

  const open = JSON.parse((await (await fetch(base)).text()).slice(1));
  const url = `${base}&sid=${open.sid}`;
  // Until the last step the test answers the server's pings (every 200 ms) as a client would; a ping may
  // share a poll with an answer on a busy machine.
  const poll = async () => {
    const packets = (await (await fetch(url)).text()).split('\x1e');
    if (packets.includes('2')) await fetch(url, { method: 'POST', body: '3' });
    return packets.filter((p) => p !== '2').join('\x1e');
  };
  res = await fetch(url, { method: 'POST', body: '40{"offset":"not-a-seq"}' });
  assert.equal(await res.text(), 'ok');
  assert.match(await poll(), /^44\{"message":"auth.offset must be/);
  res = await fetch(url, { method: 'POST', body: '40/admin,' });
  assert.equal(await poll(), '44/admin,{"message":"Invalid namespace"}');
  await fetch(url, { method: 'POST', body: '40' });
  assert.match(await poll(), /^40\{"pid":"[\w-]+","sid":"[\w-]+"\}$/);
  // From now on nobody answers: the server pings, then ends the session after pingTimeout.
  const seen = [];
  res = await eventually(async () => {
    const r = await fetch(url);
    if (r.status === 400) return r;
    seen.push(...(await r.text()).split('\x1e'));
    return null;
  }, 5000, 'the session to end after pingInterval + pingTimeout');
  assert.ok(seen.includes('2'), `the server pinged: ${JSON.stringify(seen)}`);
  assert.deepEqual(await res.json(), { code: 1, message: 'Session ID unknown' });
  await eventually(async () => (await vx.get('/healthz')).body.subscribers === 0, 5000, 'the dead client to be dropped');
});

test('Engine.IO sessions are capped, and one that never sends a CONNECT expires though it answers pings', async (t) => {
  // The connect timeout is the ping interval plus timeout: 600 ms here.
  const vx = await startVoxlogd({ env: { SOCKETIO_MAX_SESSIONS: '2', SOCKETIO_PING_INTERVAL_MS: '200', SOCKETIO_PING_TIMEOUT_MS: '400' } });
  t.after(() => vx.stop());
  const base = `${vx.url}/socket.io/?EIO=4&transport=polling`;
  const handshake = async () => {
    const res = await fetch(base);
    return { status: res.status, body: await res.text() };
  };
  const first = await handshake();
  const second = await handshake();
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  const refused = await handshake();
  assert.equal(refused.status, 503, 'a third session is refused');
  assert.equal(JSON.parse(refused.body).code, 3);
  // The first session answers every ping but never connects to a namespace: it is closed all the same.
  const url = `${base}&sid=${JSON.parse(first.body.slice(1)).sid}`;
  const ended = await eventually(async () => {
    const r = await fetch(url);
    if (r.status === 400) return r;
    const packets = (await r.text()).split('\x1e');
    if (packets.includes('2')) await fetch(url, { method: 'POST', body: '3' });
    return packets.includes('1') ? r : null;
  }, 5000, 'the session without a CONNECT to end');
  assert.ok(ended);
  await eventually(async () => (await handshake()).status === 200, 5000, 'a new session once the others expired');
});

test('a client that passes its last seq gets everything it missed from the log, also across a restart', async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const { ca } = sids();
  const first = connect(vx);
  await first.connected$;
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'ringing', 1));
  const seen = await eventually(() => named(first, 'statusUpdate')[0], 5000, 'the first statusUpdate');
  first.disconnect();

  // Missed while away: two more changes, a restart, one more change.
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'in-progress', 2));
  await post(vx, '/api/calls/webhooks/dtmf', flowBody('', ca, 'dtmf', { digits: '2', execution_sid: undefined }));
  await vx.restart();
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'completed', 3, { CallDuration: '12' }));

  const back = connect(vx, { auth: { offset: seen.offset } });
  t.after(() => back.disconnect());
  await back.connected$;
  await eventually(() => named(back, 'statusUpdate').length === 3, 5000, 'the missed events');
  assert.deepEqual(back.received.map((e) => [e.name, e.payload.event]), [
    ['statusUpdate', 'in-progress'], ['dtmfUpdate', 'dtmf'], ['dtmfUpdate', 'cancel_appointment'],
    ['statusUpdate', 'cancel_appointment'], ['statusUpdate', 'completed']]);
  assert.ok(back.received.every((e) => Number(e.offset) > Number(seen.offset)));
  // A fresh client without an offset gets only what happens from now on.
  const fresh = connect(vx);
  t.after(() => fresh.disconnect());
  await fresh.connected$;
  await post(vx, '/api/calls/webhooks/flow', flowBody('', ca, 'voicemail_empty', { execution_sid: undefined }));
  await eventually(() => named(fresh, 'flowUpdate').length === 1, 5000, 'flowUpdate');
  assert.deepEqual(fresh.received.map((e) => e.name), ['flowUpdate']);
});

test("socket.io-client's own recovery: a live socket survives a server restart and misses nothing", async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const { ca } = sids();
  const socket = connect(vx, { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  t.after(() => socket.disconnect());
  await socket.connected$;
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'ringing', 1));
  await eventually(() => named(socket, 'statusUpdate').length === 1, 5000, 'the first statusUpdate');
  const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
  await vx.restart();
  assert.equal(await disconnected, 'transport close');
  // Committed before the client is back: it must still arrive, once.
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'in-progress', 2));
  await new Promise((resolve) => (socket.connected ? resolve() : socket.once('connect', resolve)));
  assert.equal(socket.recovered, true);
  await post(vx, '/api/calls/webhooks/status', statusCallback(ca, 'completed', 3));
  await eventually(() => named(socket, 'statusUpdate').length === 3, 5000, 'all statusUpdates');
  assert.deepEqual(named(socket, 'statusUpdate').map((e) => e.payload.status), ['ringing', 'in-progress', 'completed']);
});

test('a polling client away for hundreds of events gets them all, in order, over several catch-up pages', async (t) => {
  const vx = await startVoxlogd({ env: PING_ENV });
  t.after(() => vx.stop());
  const { fn, ca } = sids();
  const before = await post(vx, '/api/calls/webhooks/status', flowBody(fn, ca, 'answered', { call_status: 'in-progress' }));
  const missed = 400;  // the broadcaster replays the log in pages of 256
  for (let i = 0; i < missed; i++)
    await post(vx, '/api/calls/webhooks/dtmf', flowBody(fn, ca, 'dtmf', { digits: String(3 + (i % 6)), widget_name: 'reminder' }));
  const socket = connect(vx, { transports: ['polling'], auth: { offset: String(before) } });
  t.after(() => socket.disconnect());
  await socket.connected$;
  await eventually(() => named(socket, 'dtmfUpdate').length === missed, 15000, `${missed} dtmfUpdates`);
  const digits = named(socket, 'dtmfUpdate').map((e) => e.payload.digits);
  assert.deepEqual(digits, Array.from({ length: missed }, (_, i) => String(3 + (i % 6))));
  const offsets = socket.received.map((e) => Number(e.offset));
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  assert.equal(new Set(offsets).size, offsets.length, 'no event twice');
  assert.equal(socket.connected, true);
});

test('with API_TOKEN a client must pass it in its auth (never echoed back)', async (t) => {
  const vx = await startVoxlogd({ env: { ...PING_ENV, API_TOKEN: 'sio-secret-token' } });
  t.after(() => vx.stop());
  const refused = connect(vx);
  t.after(() => refused.disconnect());
  const error = await refused.connected$.then(() => null, (e) => e);
  assert.match(error?.message ?? '', /Unauthorized/);
  assert.ok(!error.message.includes('sio-secret-token'));
  const wrong = connect(vx, { auth: { token: 'sio-secret-tokeX' } });
  t.after(() => wrong.disconnect());
  assert.ok(await wrong.connected$.then(() => false, () => true), 'a wrong token is refused');
  const allowed = connect(vx, { transports: ['websocket'], auth: { token: 'sio-secret-token' } });
  t.after(() => allowed.disconnect());
  await allowed.connected$;
  await post(vx, '/api/calls/webhooks/status', statusCallback(sids().ca, 'ringing', 1));
  await eventually(() => named(allowed, 'statusUpdate').length === 1, 5000, 'statusUpdate');
  assert.equal(named(refused, 'statusUpdate').length, 0);
});
