// Issue 6: the Node app's later dashboard endpoints (history, stats, export, daily summary) against the real
// voxlogd, with calls made by webhooks; their shapes are the Node app's, their numbers come from the log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';

const FROM = '+15005550006';

function sid(prefix, n) {
  return prefix + String(n).padStart(32, '0');
}

function statusCallback(ca, status, sequence, extra = {}) {
  return new URLSearchParams({ AccountSid: sid('AC', 0), CallSid: ca, CallStatus: status, Direction: 'outbound-api',
    From: FROM, To: '+447911123456', SequenceNumber: String(sequence), ...extra });
}

function flowBody(fn, ca, to, event, extra = {}) {
  return { execution_sid: fn, call_sid: ca, to, from: FROM, event, widget_name: 'reminder',
    timestamp: String(Date.now()) + Math.random(), ...extra };
}

async function post(vx, path, body) {
  const r = await vx.post(path, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.seq;
}

// Four outbound calls through the flow (confirmed, cancelled, voicemail, busy) and one inbound call.
async function makeCalls(vx) {
  const outcomes = [['1', 'confirm_appointment'], ['2', 'cancel_appointment'], ['0', 'connect_to_representative']];
  for (const [i, [digits, action]] of outcomes.entries()) {
    const fn = sid('FN', i + 1), ca = sid('CA', i + 1), to = `+44791112345${i}`;
    await post(vx, '/api/calls/webhooks/status', flowBody(fn, ca, to, 'answered', { call_status: 'in-progress' }));
    await post(vx, '/api/calls/webhooks/dtmf', flowBody(fn, ca, to, 'dtmf', { digits }));
    await post(vx, '/api/calls/webhooks/dtmf', flowBody(fn, ca, to, 'dtmf_action', { digits, action }));
    await post(vx, '/api/calls/webhooks/status',
      new URLSearchParams({ CallSid: ca, CallStatus: 'completed', CallDuration: String(30 + 10 * i), SequenceNumber: '9',
        Direction: 'outbound-api', To: to, From: FROM }));
  }
  await post(vx, '/api/calls/webhooks/status', flowBody(sid('FN', 4), sid('CA', 4), '+447911123459', 'busy', { call_status: 'busy' }));
  // Inbound: answered (60 s) and missed.
  await post(vx, '/api/calls/webhooks/status', statusCallback(sid('CA', 5), 'completed', 1, { Direction: 'inbound', CallDuration: '60' }));
  await post(vx, '/api/calls/webhooks/status', statusCallback(sid('CA', 6), 'no-answer', 1, { Direction: 'inbound' }));
  await eventually(async () => {
    const h = (await vx.get('/healthz')).body;
    return h.viewCheckpoint === h.lastSeq;
  }, 5000, 'the view to catch up');
}

test('history: newest first, paginated, each call with its key actions and events', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  await makeCalls(vx);
  const first = await vx.get('/api/calls/history?limit=4&offset=0');
  assert.equal(first.status, 200);
  assert.equal(first.body.success, true);
  assert.deepEqual(first.body.pagination,
    { total: 6, totalPages: 2, currentPage: 1, limit: 4, offset: 0, hasNextPage: true, hasPreviousPage: false });
  assert.deepEqual(first.body.data.map((c) => c.callSid), [sid('CA', 6), sid('CA', 5), sid('CA', 4), sid('CA', 3)]);
  const second = await vx.get('/api/calls/history?limit=4&offset=4');
  assert.deepEqual(second.body.pagination,
    { total: 6, totalPages: 2, currentPage: 2, limit: 4, offset: 4, hasNextPage: false, hasPreviousPage: true });
  const confirmed = second.body.data[1];
  assert.deepEqual(Object.keys(confirmed).sort(),
    ['account', 'callSid', 'createdAt', 'dtmfActions', 'events', 'executionSid', 'from', 'lastActivity', 'region', 'status', 'to']);
  assert.equal(confirmed.executionSid, sid('FN', 1));
  assert.equal(confirmed.to, '+447911123450');
  assert.equal(confirmed.from, FROM);
  assert.equal(confirmed.status, 'completed');
  assert.equal(confirmed.dtmfActions.length, 1);
  assert.equal(confirmed.dtmfActions[0].digits, '1');
  assert.equal(confirmed.dtmfActions[0].action, 'confirm_appointment');
  assert.ok(confirmed.lastActivity >= Date.parse(confirmed.createdAt), 'lastActivity is epoch ms, as the Node app sent it');
  const types = confirmed.events.map((e) => e.voxlogType);
  assert.deepEqual(types.filter((x) => x !== 'WebhookReceived'),
    ['CallStatusChanged', 'DigitsPressed', 'AppointmentConfirmed', 'CallStatusChanged']);
  const pressed = confirmed.events.find((e) => e.voxlogType === 'DigitsPressed');
  assert.equal(pressed.dtmfDigits, '1');
  const webhook = confirmed.events.find((e) => e.voxlogType === 'WebhookReceived');
  assert.equal(webhook.eventData.params.event, 'answered', 'the raw webhook is kept');
  assert.ok(confirmed.events.every((e, i, all) => i === 0 || e.id > all[i - 1].id));

  const bad = await vx.get('/api/calls/history?limit=0');
  assert.equal(bad.status, 400);
  assert.match(bad.body.detail, /limit/);
  const beyond = await vx.get('/api/calls/history?offset=100');
  assert.deepEqual(beyond.body.data, []);
});

test('history of one call, export of all, and the routes are not taken by /api/calls/:id', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  await makeCalls(vx);
  const one = await vx.get(`/api/calls/history/${sid('FN', 2)}`);
  assert.equal(one.status, 200);
  const { timeline, ...call } = one.body.data;
  assert.deepEqual(call, { executionSid: sid('FN', 2), callSid: sid('CA', 2), to: '+447911123451', from: FROM,
    createdAt: call.createdAt, status: 'completed' });
  const cancel = timeline.find((e) => e.voxlogType === 'AppointmentCancelled');
  assert.equal(cancel.action, 'cancel_appointment');
  assert.equal(cancel.dtmfDigits, '2');
  const missing = await vx.get(`/api/calls/history/${sid('FN', 99)}`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.success, false);

  const all = await vx.get('/api/calls/history/export/all');
  assert.equal(all.status, 200);
  assert.equal(all.body.total, 6);
  assert.equal(all.body.data.length, 6);
  const page = await vx.get('/api/calls/history?limit=50');
  assert.deepEqual(all.body.data, page.body.data);
});

test('stats: today and the last seven days from the Call view', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const empty = await vx.get('/api/calls/stats');
  assert.deepEqual(empty.body.data.today,
    { totalCalls: 0, confirmedAppointments: 0, cancelledAppointments: 0, voicemailRequests: 0, failedCalls: 0 });
  await makeCalls(vx);
  const stats = await vx.get('/api/calls/stats');
  assert.equal(stats.status, 200);
  assert.equal(stats.body.success, true);
  assert.deepEqual(stats.body.data.today,
    { totalCalls: 6, confirmedAppointments: 1, cancelledAppointments: 1, voicemailRequests: 1, failedCalls: 2 });
  const weekly = stats.body.data.weekly;
  assert.equal(weekly.length, 7);
  const today = new Date().toISOString().slice(0, 10);
  assert.deepEqual(weekly[6], { date: today, calls: 6, confirmed: 1, cancelled: 1 });
  assert.ok(weekly.slice(0, 6).every((d) => d.calls === 0 && d.date < today));
  assert.deepEqual(weekly.map((d) => d.date), [...weekly.map((d) => d.date)].sort());
});

test('daily summary: inbound and outbound figures and calls for a day, filtered by direction', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  await makeCalls(vx);
  const today = new Date().toISOString().slice(0, 10);
  const all = await vx.get(`/api/calls/daily-summary?date=${today}&direction=all`);
  assert.equal(all.status, 200);
  assert.equal(all.body.date, today);
  assert.deepEqual(all.body.stats.inbound,
    { total: 2, answered: 1, missed: 1, missedRatio: 50, totalDuration: 60, avgDuration: 30, maxDuration: 60 });
  assert.deepEqual(all.body.stats.outbound,
    { total: 4, completed: 3, failed: 1, totalDuration: 120, avgDuration: 30, maxDuration: 50 });
  assert.deepEqual(all.body.stats.overall, { totalCalls: 6, totalDuration: 180 });
  const inbound = all.body.calls.inbound.find((c) => c.sid === sid('CA', 5));
  assert.deepEqual(Object.keys(inbound).sort(), ['direction', 'duration', 'endTime', 'from', 'sid', 'startTime', 'status', 'to']);
  assert.equal(inbound.direction, 'inbound');
  assert.equal(inbound.duration, 60);
  assert.ok(inbound.endTime >= inbound.startTime);
  assert.equal(all.body.calls.outbound.length, 4);

  const onlyInbound = await vx.get(`/api/calls/daily-summary?date=${today}&direction=inbound`);
  assert.equal(onlyInbound.body.calls.inbound.length, 2);
  assert.deepEqual(onlyInbound.body.calls.outbound, []);
  assert.equal(onlyInbound.body.stats.outbound.total, 0);
  const defaultDay = await vx.get('/api/calls/daily-summary');
  assert.deepEqual(defaultDay.body, all.body);
  const otherDay = await vx.get('/api/calls/daily-summary?date=2020-01-01');
  assert.equal(otherDay.body.stats.overall.totalCalls, 0);

  for (const query of ['date=yesterday', 'date=2024-13-45', 'direction=sideways']) {
    const bad = await vx.get(`/api/calls/daily-summary?${query}`);
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.success, false);
  }
});

test('with API_TOKEN the dashboard endpoints need it', async (t) => {
  const vx = await startVoxlogd({ env: { API_TOKEN: 'sekrit-token-for-tests' } });
  t.after(() => vx.stop());
  for (const path of ['/api/calls/history', '/api/calls/stats', '/api/calls/history/export/all', '/api/calls/daily-summary']) {
    assert.equal((await vx.get(path)).status, 401, path);
    const ok = await vx.get(path, { Authorization: 'Bearer sekrit-token-for-tests' });
    assert.equal(ok.status, 200, path);
    assert.ok(!JSON.stringify(ok.body).includes('sekrit'));
  }
});
