// Issue 3: the server core against the real voxlogd: webhooks (JSON and form, out of order, duplicated),
// the Call view, the audit trail, signatures, errors, /ws resume, restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually, sleep } from '../lib/voxlogd.mjs';
import { signForm, signJson } from '../lib/twilio.mjs';

const FN = 'FN' + 'a1'.repeat(16);
const CA = 'CA' + 'b2'.repeat(16);
const TO = '+447700900123';

function statusCallback(status, sequence, extra = {}) {
  return new URLSearchParams({
    AccountSid: 'AC' + '0'.repeat(32), ApiVersion: '2010-04-01', CallSid: CA, CallStatus: status,
    CallbackSource: 'call-progress-events', Direction: 'outbound-api', From: '+15005550006', To: TO,
    SequenceNumber: String(sequence), Timestamp: 'Sun, 25 Mar 2018 09:53:19 +0000', ...extra,
  });
}

function flowBody(event, extra = {}) {
  return { execution_sid: FN, flow_sid: 'FW' + '0'.repeat(32), call_sid: CA, to: TO, from: '+15005550006',
    event, widget_name: 'call', timestamp: String(Date.now()), ...extra };
}

test('a full call: mixed bodies, out of order, duplicated, ends with the right row and audit trail', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());

  // The flow reports the answer (JSON, carries both SIDs: CallSid becomes an alias of the execution).
  const answered = flowBody('answered', { call_status: 'in-progress', answered_by: 'human' });
  let r = await vx.post('/api/calls/webhooks/status', answered);
  assert.equal(r.status, 200);
  // Twilio status callbacks arrive out of order: completed (seq 3) before ringing (seq 1).
  r = await vx.post('/api/calls/webhooks/status', statusCallback('completed', 3, { CallDuration: '49', Duration: '1' }));
  assert.equal(r.status, 200);
  r = await vx.post('/api/calls/webhooks/status', statusCallback('ringing', 1));
  assert.equal(r.status, 200);
  // Key press 1, then the flow's action report, each delivered twice (a retry repeats the body).
  const dtmf = flowBody('dtmf', { digits: '1' });
  const action = flowBody('dtmf_action', { digits: '1', action: 'confirm_appointment', widget_name: 'report_confirm' });
  for (const body of [dtmf, dtmf, action, action]) {
    r = await vx.post('/api/calls/webhooks/dtmf', body);
    assert.equal(r.status, 200);
  }
  // The same status callback again (its key is CallSid, SequenceNumber, CallStatus), and a flow report
  // delivered twice with different idempotency headers: the unsigned header decides nothing.
  const again = await vx.post('/api/calls/webhooks/status', statusCallback('completed', 3, { CallDuration: '49' }));
  assert.equal(again.body.duplicate, true);
  const recorded = flowBody('voicemail_recorded', { recording_url: 'https://api.twilio.com/rec/RE1' });
  const first = await vx.post('/api/calls/webhooks/flow', recorded, { 'I-Twilio-Idempotency-Token': 'idem-1' });
  const retry = await vx.post('/api/calls/webhooks/flow', recorded, { 'I-Twilio-Idempotency-Token': 'idem-2' });
  assert.equal(first.body.duplicate, false);
  assert.equal(retry.body.duplicate, true);
  assert.equal(retry.body.seq, first.body.seq);

  const row = await eventually(async () => {
    const res = await vx.get(`/api/calls/${CA}`);
    return res.status === 200 && res.body.data.recordingUrl ? res.body.data : null;
  }, 5000, 'the call row');
  assert.equal(row.executionSid, FN);
  assert.equal(row.callSid, CA);
  assert.equal(row.to, TO);
  assert.equal(row.status, 'completed');          // the late "ringing" did not move it back
  assert.equal(row.duration, 49);
  assert.equal(row.dtmfDigits, '1');               // the duplicate and the action report counted once
  assert.equal(row.outcome, 'confirmed');
  assert.equal(row.answeredBy, 'human');
  assert.equal(row.direction, 'outbound-api');
  assert.equal(row.recordingUrl, 'https://api.twilio.com/rec/RE1');

  const byExecution = await vx.get(`/api/calls/${FN}`);
  assert.deepEqual(byExecution.body.data, row);
  const list = await vx.get('/api/calls');
  assert.equal(list.body.data.length, 1);

  const audit = await vx.get(`/api/calls/${FN}/events`);
  const types = audit.body.data.map((e) => e.type);
  const webhooks = audit.body.data.filter((e) => e.type === 'WebhookReceived');
  assert.equal(webhooks.length, 6, 'one WebhookReceived per distinct delivery: ' + types.join(','));
  assert.deepEqual(types.filter((t) => t !== 'WebhookReceived'), [
    'CallStatusChanged', 'CallStatusChanged', 'DigitsPressed', 'AppointmentConfirmed', 'FlowEventReceived', 'RecordingAvailable',
  ]);
  const late = webhooks.find((e) => e.data.params.CallStatus === 'ringing');
  assert.ok(late, 'the late ringing callback is recorded');
  assert.equal(late.data.params.SequenceNumber, '1');
  assert.equal(late.data.content_type, 'form');
  const versions = audit.body.data.map((e) => e.version);
  assert.deepEqual(versions, versions.map((_, i) => i + 1), 'stream versions are dense');

  const events = await vx.get('/api/events?after=0&limit=1000');
  assert.equal(events.body.lastSeq, audit.body.data.at(-1).seq);
  const seqs = events.body.events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'global seqs are dense from 1');
});

test('bad input gets problem details and appends nothing; the server keeps serving', async (t) => {
  const vx = await startVoxlogd({ env: { MAX_BODY_BYTES: '2048' } });
  t.after(() => vx.stop());
  const before = (await vx.get('/healthz')).body.lastSeq;
  const cases = [
    ['malformed JSON', '/api/calls/webhooks/status', '{"execution_sid": ', 'application/json', 400],
    ['JSON array', '/api/calls/webhooks/dtmf', '[1,2]', 'application/json', 400],
    ['bad percent escape', '/api/calls/webhooks/status', 'CallSid=CA1&CallStatus=%ZZ', 'application/x-www-form-urlencoded', 400],
    ['no call identity', '/api/calls/webhooks/flow', '{"event":"x"}', 'application/json', 400],
    ['unsupported type', '/api/calls/webhooks/flow', 'hello', 'text/plain', 415],
    ['oversized body', '/api/calls/webhooks/flow', JSON.stringify({ execution_sid: FN, pad: 'x'.repeat(4096) }), 'application/json', 413],
  ];
  for (const [name, path, body, type, status] of cases) {
    const signed = vx.signWebhook(path, body, type);  // signed as Twilio would: the body itself is what is wrong
    const res = await fetch(vx.url + signed.path, { method: 'POST', headers: { 'Content-Type': type, ...signed.headers }, body });
    assert.equal(res.status, status, name);
    assert.match(res.headers.get('content-type'), /application\/problem\+json/, name);
    const problem = await res.json();
    assert.equal(problem.status, status, name);
    assert.ok(problem.title && problem.detail, name);
  }
  const directory = await vx.get('/js');  // a folder of the dashboard's files is not a file
  assert.equal(directory.status, 404);
  assert.equal((await vx.get('/js/app.js')).status, 200);
  const unknown = await vx.get('/api/nope/nothing');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.status, 404);
  const badQuery = await vx.get('/api/events?limit=abc');
  assert.equal(badQuery.status, 400);
  assert.equal((await vx.get('/healthz')).body.lastSeq, before, 'nothing was appended');
  const ok = await vx.post('/api/calls/webhooks/status', flowBody('answered'));
  assert.equal(ok.status, 200, 'still serving');
});

test('X-Twilio-Signature: signed webhooks are accepted, unsigned and forged ones get 403 and leave no event', async (t) => {
  const token = 'test_auth_token_0123456789abcdef';
  const publicUrl = 'https://voxlog.example.com';
  const vx = await startVoxlogd({ env: {
    TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32), TWILIO_AUTH_TOKEN: token, TWILIO_FLOW_SID: 'FW' + '0'.repeat(32),
    TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE: 'http://127.0.0.1:9', PUBLIC_URL: publicUrl,
  } });
  t.after(() => vx.stop());
  assert.doesNotMatch(vx.output(), new RegExp(token), 'the token is never logged');

  const form = statusCallback('ringing', 1);
  const path = '/api/calls/webhooks/status?source=test';
  const signed = await vx.post(path, form, signForm(token, publicUrl + path, Object.fromEntries(form)));
  assert.equal(signed.status, 200);

  const raw = JSON.stringify(flowBody('dtmf', { digits: '2' }));
  const { url, headers } = signJson(token, publicUrl + '/api/calls/webhooks/dtmf', raw);
  const jsonRes = await fetch(vx.url + url.slice(publicUrl.length), {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: raw });
  assert.equal(jsonRes.status, 200);

  const seqAfterSigned = (await vx.get('/healthz')).body.lastSeq;
  assert.ok(seqAfterSigned > 0);
  const unsigned = await vx.post(path, form, { 'X-Twilio-Signature': '' });
  assert.equal(unsigned.status, 403);
  const forged = await vx.post(path, statusCallback('completed', 2), signForm(token, publicUrl + path, Object.fromEntries(form)));
  assert.equal(forged.status, 403);
  const wrongKey = await vx.post(path, form, signForm('another-token', publicUrl + path, Object.fromEntries(form)));
  assert.equal(wrongKey.status, 403);
  const tamperedBody = await fetch(vx.url + url.slice(publicUrl.length), {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: raw.replace('"2"', '"1"') });
  assert.equal(tamperedBody.status, 403);
  const problem = await tamperedBody.json();
  assert.doesNotMatch(JSON.stringify(problem), new RegExp(token));
  assert.equal((await vx.get('/healthz')).body.lastSeq, seqAfterSigned, 'rejected webhooks appended nothing');
  const metrics = await vx.get('/metrics');
  assert.match(metrics.body, /voxlog_webhooks_total\{route="status",result="forbidden"\} 3/);
  assert.match(metrics.body, /voxlog_webhooks_total\{route="dtmf",result="forbidden"\} 1/);
});

test('a read right after an acknowledged write sees it: the read waits for the view, not the client', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  // Back to back: most of these reads arrive within the view's 20 ms commit interval (actors/projection/projection.hpp).
  for (let i = 0; i < 30; i++) {
    const sid = 'CA' + String(i).padStart(32, '0');
    const r = await vx.post('/api/calls/webhooks/status', new URLSearchParams({
      CallSid: sid, CallStatus: 'ringing', SequenceNumber: '1', To: TO, From: '+15005550006', Direction: 'outbound-api',
    }));
    assert.equal(r.status, 200);
    const one = await vx.get(`/api/calls/${sid}`);
    assert.equal(one.status, 200, `webhook ${i} was acknowledged, then its call was not found`);
    assert.equal(one.body.data.status, 'ringing');
    const newest = await vx.get('/api/calls?limit=1');
    assert.equal(newest.body.data[0].callSid, sid, 'the newest row is the call just acknowledged');
    const legacy = await vx.get(`/api/calls/history/${sid}`);  // the Node app's routes read the same way
    assert.equal(legacy.status, 200);
  }
  const done = await vx.post('/api/calls/webhooks/status', new URLSearchParams({ CallSid: 'CA' + '0'.repeat(32), CallStatus: 'completed', SequenceNumber: '2' }));
  assert.equal(done.status, 200);
  assert.equal((await vx.get('/api/calls/CA' + '0'.repeat(32))).body.data.status, 'completed');
});

test('/ws pushes every committed event with the call row; a client that drops resumes with after, no gap, no duplicate', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const ws = vx.ws('/ws');
  await ws.opened;
  await vx.post('/api/calls/webhooks/status', flowBody('answered', { call_status: 'in-progress' }));
  const live = await ws.waitFor((m) => m.some((x) => x.event.type === 'CallStatusChanged'), 5000, 'the status change');
  const change = live.find((x) => x.event.type === 'CallStatusChanged');
  assert.equal(change.call.status, 'in-progress');
  assert.equal(change.call.executionSid, FN);
  assert.equal(change.seq, change.event.seq);
  const lastSeen = live.at(-1).seq;
  ws.terminate();

  // While it is away: more of the call.
  await vx.post('/api/calls/webhooks/dtmf', flowBody('dtmf', { digits: '2' }));
  await vx.post('/api/calls/webhooks/status', flowBody('completed'));
  const total = (await vx.get('/healthz')).body.lastSeq;

  const resumed = vx.ws(`/ws?after=${lastSeen}`);
  await resumed.opened;
  await vx.post('/api/calls/webhooks/flow', flowBody('gather_timeout'));  // and something live after resuming
  const got = await resumed.waitFor((m) => m.length && m.at(-1).seq >= total + 2, 5000, 'catch-up then live');
  const seqs = got.map((m) => m.seq);
  assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => lastSeen + 1 + i), 'exactly the missed seqs, in order');
  const types = got.map((m) => m.event.type);
  assert.ok(types.includes('AppointmentCancelled'));
  assert.ok(types.includes('FlowEventReceived'));
  // Each caught-up event comes with the row as it was right after it, not as it is now.
  const cancelled = got.find((m) => m.event.type === 'AppointmentCancelled');
  assert.equal(cancelled.call.outcome, 'cancelled');
  assert.equal(cancelled.call.status, 'in-progress', 'the call completed only later');
  assert.equal(cancelled.call.lastSeq, cancelled.seq);
  const completed = got.find((m) => m.event.type === 'CallStatusChanged');
  assert.equal(completed.call.status, 'completed');
  assert.equal(completed.call.id, change.call.id);
  resumed.close();
});

test('a slow WebSocket client is closed with a reason and resumes with after; others are not slowed', async (t) => {
  const vx = await startVoxlogd({ env: { WS_MAX_QUEUE: '64' } });
  t.after(() => vx.stop());
  const slow = vx.ws('/ws');
  const fast = vx.ws('/ws');
  await Promise.all([slow.opened, fast.opened]);
  slow.socket._socket.pause();  // stops reading: the kernel buffers fill, then frames queue in the server
  const big = 'x'.repeat(30000);
  const closedForSlowness = async () =>
    /voxlog_slow_subscribers_closed_total 1/.test((await vx.get('/metrics')).body);
  let n = 0;
  // Until the server gives up on the slow client (it cannot see the close while it does not read).
  while (!(await closedForSlowness()) && n < 400) {
    const batch = [];
    for (let i = 0; i < 10; i++, n++)
      batch.push(vx.post('/api/calls/webhooks/flow', { execution_sid: 'FN' + n, event: 'note', pad: big }));
    await Promise.all(batch);
  }
  assert.equal(fast.closed, null, 'the fast client is not closed');
  slow.socket._socket.resume();
  const closed = await slow.waitFor((m, c) => c, 10000, 'the close of the slow client').then(() => slow.closed);
  assert.equal(closed.code, 4000);
  assert.match(closed.reason, /after=\d+/);
  const total = (await vx.get('/healthz')).body.lastSeq;
  const all = await fast.waitFor((m) => m.length && m.at(-1).seq === total, 10000, 'every event at the fast client');
  assert.equal(all.length, total, 'the fast client got everything');
  const after = Number(/after=(\d+)/.exec(closed.reason)[1]);
  const back = vx.ws(`/ws?after=${after}`);
  const rest = await back.waitFor((m) => m.length && m.at(-1).seq === total, 10000, 'the rest after resuming');
  assert.equal(rest[0].seq, after + 1);
  assert.equal(rest.length, total - after);
  back.close();
  fast.close();
});

test('a restart keeps every event and row; the view is caught up from the log', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  await vx.post('/api/calls/webhooks/status', flowBody('answered', { call_status: 'in-progress' }));
  await vx.post('/api/calls/webhooks/dtmf', flowBody('dtmf', { digits: '0' }));
  await vx.settled();
  const before = (await vx.get(`/api/calls/${FN}`)).body.data;
  const eventsBefore = (await vx.get('/api/events?limit=1000')).body.events;
  await vx.restart();
  const after = (await vx.get(`/api/calls/${CA}`)).body.data;
  assert.deepEqual(after, before);
  assert.equal(after.outcome, 'voicemail');
  assert.deepEqual((await vx.get('/api/events?limit=1000')).body.events, eventsBefore);
  // The call actor recovers its state from the log: a repeated key is not a new outcome, a late
  // non-terminal status after completion does not move the call back.
  await vx.post('/api/calls/webhooks/status', flowBody('completed'));
  await vx.post('/api/calls/webhooks/status', flowBody('answered', { call_status: 'in-progress', timestamp: 'later' }));
  await vx.settled();
  const final = (await vx.get(`/api/calls/${FN}`)).body.data;
  assert.equal(final.status, 'completed');
  const audit = (await vx.get(`/api/calls/${FN}/events`)).body.data;
  assert.equal(audit.filter((e) => e.type === 'CallStatusChanged').length, 2);
});

test('GET /api/calls filters by status, outcome, number and time, newest first, with a cursor', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const calls = [
    ['FN01', '+447911000001', 'busy'], ['FN02', '+447911000002', 'answered'], ['FN03', '+447911000003', 'busy'],
    ['FN04', '+447911000004', 'no_answer'], ['FN05', '+447911000005', 'answered'],
  ];
  for (const [sid, to, event] of calls) await vx.post('/api/calls/webhooks/status', { execution_sid: sid, to, event });
  await vx.post('/api/calls/webhooks/dtmf', { execution_sid: 'FN05', event: 'dtmf', digits: '2' });
  await vx.settled();
  const all = (await vx.get('/api/calls')).body;
  assert.deepEqual(all.data.map((c) => c.executionSid), ['FN05', 'FN04', 'FN03', 'FN02', 'FN01']);
  assert.equal(all.nextCursor, null);
  const busy = (await vx.get('/api/calls?status=busy')).body.data.map((c) => c.executionSid);
  assert.deepEqual(busy, ['FN03', 'FN01']);
  assert.deepEqual((await vx.get('/api/calls?outcome=cancelled')).body.data.map((c) => c.executionSid), ['FN05']);
  assert.deepEqual((await vx.get('/api/calls?to=000004')).body.data.map((c) => c.executionSid), ['FN04']);
  assert.equal((await vx.get('/api/calls?since=2999-01-01')).body.data.length, 0);
  assert.equal((await vx.get('/api/calls?since=2000-01-01T00:00:00Z')).body.data.length, 5);
  const page1 = (await vx.get('/api/calls?limit=2')).body;
  assert.deepEqual(page1.data.map((c) => c.executionSid), ['FN05', 'FN04']);
  const page2 = (await vx.get(`/api/calls?limit=2&cursor=${page1.nextCursor}`)).body;
  assert.deepEqual(page2.data.map((c) => c.executionSid), ['FN03', 'FN02']);
  const page3 = (await vx.get(`/api/calls?limit=2&cursor=${page2.nextCursor}`)).body;
  assert.deepEqual(page3.data.map((c) => c.executionSid), ['FN01']);
  assert.equal(page3.nextCursor, null);
  assert.equal((await vx.get('/api/calls?limit=0')).status, 400);
  assert.equal((await vx.get('/api/calls?since=yesterday')).status, 400);
  assert.equal((await vx.get('/api/calls/FN999')).status, 404);
  const metrics = (await vx.get('/metrics')).body;
  for (const name of ['voxlog_webhooks_total', 'voxlog_events_appended_total', 'voxlog_commit_seconds_bucket',
    'voxlog_websocket_subscribers', 'voxlog_call_actors'])
    assert.match(metrics, new RegExp(name));
  assert.match(metrics, /voxlog_webhooks_total\{route="status",result="accepted"\} 5/);
});

test('a finished call\'s actor retires when idle; later webhooks recover it from the log and the directory keeps serving', async (t) => {
  const vx = await startVoxlogd({ env: { CALL_IDLE_AFTER_END_MS: '200' } });
  t.after(() => vx.stop());
  await vx.post('/api/calls/webhooks/status', flowBody('answered', { call_status: 'in-progress' }));
  await vx.post('/api/calls/webhooks/dtmf', flowBody('dtmf', { digits: '1' }));
  await vx.post('/api/calls/webhooks/status', flowBody('completed'));
  assert.ok((await vx.get('/healthz')).body.callActors >= 1);
  await eventually(async () => (await vx.get('/healthz')).body.callActors === 0, 5000, 'the call actor to retire');
  // A late webhook for the retired call: a new actor folds the stream and keeps the call completed.
  const late = await vx.post('/api/calls/webhooks/status', flowBody('answered', { call_status: 'in-progress', timestamp: 'late' }));
  assert.equal(late.status, 200);
  const repeat = await vx.post('/api/calls/webhooks/dtmf', flowBody('dtmf_action', { digits: '1', action: 'confirm_appointment' }));
  assert.equal(repeat.status, 200);
  const other = await vx.post('/api/calls/webhooks/status', { execution_sid: 'FN-other', event: 'busy' });
  assert.equal(other.status, 200);
  await vx.settled();
  const row = (await vx.get(`/api/calls/${FN}`)).body.data;
  assert.equal(row.status, 'completed');
  assert.equal(row.outcome, 'confirmed');
  const types = (await vx.get(`/api/calls/${FN}/events`)).body.data.map((e) => e.type);
  assert.equal(types.filter((x) => x === 'AppointmentConfirmed').length, 1, types.join(','));
  assert.equal(types.filter((x) => x === 'CallStatusChanged').length, 2, types.join(','));
});

test('/ws pings its clients: one that never answers is closed, one that answers stays', async (t) => {
  // One second between pings: a pong has a whole interval to be read, even on a loaded machine (the
  // live sockets' threads run at a lower priority than the webhooks'), so only the silent client is closed.
  const vx = await startVoxlogd({ env: { WS_PING_MS: '1000' } });
  t.after(() => vx.stop());
  const { default: WebSocket } = await import('ws');
  const wsUrl = vx.url.replace('http', 'ws') + '/ws';
  const silent = new WebSocket(wsUrl, { autoPong: false });
  const healthy = new WebSocket(wsUrl);
  let pings = 0;
  healthy.on('ping', () => pings++);
  await Promise.all([silent, healthy].map((s) => new Promise((resolve) => s.once('open', resolve))));
  const closed = await new Promise((resolve) => silent.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  assert.equal(closed.code, 1001);
  assert.match(closed.reason, /no answer to pings/);
  await eventually(async () => (await vx.get('/healthz')).body.subscribers === 1, 3000, 'one subscriber left');
  assert.ok(pings >= 2, `the healthy client was pinged (${pings})`);
  assert.equal(healthy.readyState, WebSocket.OPEN);
  // Listening before the webhook is sent: its event may reach the socket before the webhook's answer does.
  const next = Promise.race([new Promise((resolve) => healthy.once('message', () => resolve('message'))),
    new Promise((resolve) => healthy.once('close', (code, reason) => resolve(`closed ${code} ${reason}`)))]);
  const posted = await vx.post('/api/calls/webhooks/status', flowBody('answered'));
  const got = await Promise.race([next, sleep(10000).then(() => 'nothing in 10 s')]);
  assert.equal(got, 'message', `the healthy client got the next event (webhook ${posted.status}, ${pings} pings)`);
  healthy.close();
});
