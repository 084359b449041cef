// Issue 18 (items 1, 2, 4, 5): the Node app's later dashboard against the real voxlogd, with real calls
// through the built-in simulator (and signed inbound status callbacks): the events feed, the monthly
// summary, the history's and export's field types, error bodies with `error` and `code`, and CORS
// preflights on every path; then the later dashboard's requests, as it sends them, all answer 2xx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';

const env = { SIM_TIME_SCALE: '0.002', TWILIO_CPS: '50' };
const DASHBOARD = 'http://localhost:3000';  // the Node app's dashboard origin, allowed by default
const FEED_KINDS = {
  CallStatusChanged: 'status', DigitsPressed: 'dtmf', AppointmentConfirmed: 'dtmf', AppointmentCancelled: 'dtmf',
  VoicemailRequested: 'dtmf', OptOutRequested: 'dtmf', FlowEventReceived: 'flow',
};
const ACTIONS = {
  AppointmentConfirmed: 'confirm_appointment', AppointmentCancelled: 'cancel_appointment',
  VoicemailRequested: 'connect_to_representative', OptOutRequested: 'opt_out',
};
const TERMINAL = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

async function simulator(vx, headers = {}) {
  const url = (await vx.get('/healthz', headers)).body.simulatorUrl;
  assert.ok(url, 'voxlogd runs its simulator when no Twilio credentials are set');
  return {
    script: async (s) => (await fetch(url + '/__sim/script', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) })).json(),
  };
}

// Calls through the simulator, one per outcome; returns their execution SIDs by name.
const SCRIPTS = {
  confirmed: { answer: 'human', digits_sequence: ['5', '1'] },  // a plain press of 5, then 1
  cancelled: { answer: 'human', digits: '2' },
  voicemail: { answer: 'human', digits: '0', voicemail: 'recorded' },
  busy: { answer: 'busy' },
  noAnswer: { answer: 'no-answer' },
};

async function placeCalls(vx, headers = {}) {
  const sim = await simulator(vx, headers);
  const sids = {};
  for (const [i, [name, script]] of Object.entries(SCRIPTS).entries()) {
    const to = `+4479111235${String(10 + i)}`;
    await sim.script({ to, ...script });
    const res = await vx.post('/api/calls/start', { to }, headers);
    assert.equal(res.status, 200, `${name}: ${JSON.stringify(res.body)}`);
    sids[name] = res.body.data.execution_sid;
  }
  for (const [name, sid] of Object.entries(sids)) {
    await eventually(async () => {
      const r = await vx.get(`/api/calls/${sid}`, headers);
      return r.status === 200 && TERMINAL.includes(r.body.data.status);
    }, 30000, `the ${name} call to end`);
  }
  return sids;
}

// Two inbound calls (answered, missed): Twilio's signed status callbacks, as a number's webhook sends them.
async function inboundCalls(vx, headers = {}) {
  const calls = [['CA' + 'a'.repeat(32), 'completed'], ['CA' + 'b'.repeat(32), 'no-answer']];
  for (const [ca, status] of calls) {
    const r = await vx.post('/api/calls/webhooks/status', new URLSearchParams({
      AccountSid: 'AC' + '0'.repeat(32), CallSid: ca, CallStatus: status, Direction: 'inbound',
      From: '+447700900123', To: '+15005550006', SequenceNumber: '1', CallDuration: '12' }), headers);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  return calls.map(([ca]) => ca);
}

async function wholeLog(vx, headers = {}) {
  const events = [];
  for (let after = 0; ;) {
    const page = (await vx.get(`/api/events?after=${after}&limit=1000`, headers)).body;
    events.push(...page.events);
    if (page.events.length < 1000) return events;
    after = page.events.at(-1).seq;
  }
}

// What the feed must hold, newest first, computed from the log and the Call view: each status, dtmf and
// flow event with its call's identity and the raw parameters of the webhook that produced it.
async function expectedFeed(vx, headers = {}) {
  const log = await wholeLog(vx, headers);
  const rows = new Map(), lastWebhook = new Map(), feed = [];
  for (const e of log) {
    if (e.type === 'WebhookReceived') lastWebhook.set(e.stream, e.data.params);
    const type = FEED_KINDS[e.type];
    if (!type) continue;
    if (!rows.has(e.stream)) rows.set(e.stream, (await vx.get(`/api/calls/${e.stream.slice(5)}`, headers)).body.data);
    const row = rows.get(e.stream);
    feed.push({
      id: e.seq, execution_sid: row.executionSid, CallSid: row.callSid, To: row.to, From: row.from,
      status: type === 'status' ? e.data.status : null,
      type,
      digits: type === 'dtmf' ? e.data.digits ?? null : null,
      action: ACTIONS[e.type] ? e.data.action ?? ACTIONS[e.type] : null,
      time: e.ts,
      eventData: e.source === 'twilio-webhook' ? lastWebhook.get(e.stream) : e.data,
    });
  }
  return feed.reverse();
}

test('GET /api/calls/events: the Node app\'s events table from the log, every field, newest first, paged', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const empty = await vx.get('/api/calls/events');
  assert.equal(empty.status, 200, 'not taken by /api/calls/:id');
  assert.deepEqual(empty.body, { success: true, data: { events: [], pagination: { page: 1, limit: 50, total: 0, totalPages: 0 } } });

  const sids = await placeCalls(vx);
  const inbound = await inboundCalls(vx);
  await vx.settled();
  const expected = await expectedFeed(vx);
  assert.ok(expected.length > 14, `${expected.length} feed events`);

  const all = await vx.get('/api/calls/events?limit=100');
  assert.equal(all.status, 200);
  assert.deepEqual(Object.keys(all.body).sort(), ['data', 'success']);
  assert.equal(all.body.success, true);
  assert.deepEqual(all.body.data.pagination,
    { page: 1, limit: 100, total: expected.length, totalPages: Math.ceil(expected.length / 100) });
  const events = all.body.data.events;
  assert.deepEqual(events, expected.slice(0, 100));
  for (const e of events) {
    assert.deepEqual(Object.keys(e).sort(),
      ['CallSid', 'From', 'To', 'action', 'digits', 'eventData', 'execution_sid', 'id', 'status', 'time', 'type']);
    assert.ok(['status', 'dtmf', 'flow'].includes(e.type), e.type);
    assert.equal(typeof e.time, 'number');
    assert.ok(Math.abs(e.time - Date.now()) < 600000, 'time is epoch ms');
    assert.equal(typeof e.eventData, 'object');
  }
  assert.ok(events.every((e, i) => i === 0 || e.id < events[i - 1].id), 'newest first');
  for (const type of ['status', 'dtmf', 'flow']) assert.ok(events.some((e) => e.type === type), type);

  // The confirmed call: a plain press of 5, then 1 with its action; each from its dtmf webhook.
  const confirmed = events.filter((e) => e.execution_sid === sids.confirmed && e.type === 'dtmf').reverse();
  assert.deepEqual(confirmed.map((e) => [e.digits, e.action]), [['5', null], ['1', null], ['1', 'confirm_appointment']]);
  assert.ok(confirmed.every((e) => e.eventData.execution_sid === sids.confirmed && e.eventData.digits === e.digits));
  assert.match(confirmed[0].CallSid, /^CA[0-9a-f]{32}$/);
  assert.equal(confirmed[0].To, '+447911123510');
  assert.equal(confirmed[0].From, '+15005550006');
  const actions = (sid) => events.filter((e) => e.execution_sid === sid && e.action).map((e) => e.action);
  assert.deepEqual(actions(sids.cancelled), ['cancel_appointment']);
  assert.deepEqual(actions(sids.voicemail), ['connect_to_representative']);
  const busy = events.find((e) => e.execution_sid === sids.busy && e.type === 'status' && e.status === 'busy');
  assert.ok(busy, 'the busy call\'s final status');
  assert.deepEqual([busy.digits, busy.action], [null, null]);
  const answeredInbound = events.find((e) => e.CallSid === inbound[0]);
  assert.deepEqual({ ...answeredInbound, id: 0, time: 0 }, {
    id: 0, execution_sid: null, CallSid: inbound[0], To: '+15005550006', From: '+447700900123', status: 'completed',
    type: 'status', digits: null, action: null, time: 0, eventData: {
      AccountSid: 'AC' + '0'.repeat(32), CallSid: inbound[0], CallStatus: 'completed', Direction: 'inbound',
      From: '+447700900123', To: '+15005550006', SequenceNumber: '1', CallDuration: '12' } });
  const flow = events.find((e) => e.type === 'flow');
  assert.deepEqual([flow.status, flow.digits, flow.action], [null, null, null]);
  assert.ok(flow.eventData.event && flow.eventData.widget_name, 'the flow step as Studio reported it');

  // Pages of 7 from the newest, joined, are the whole feed; a page past the end is empty.
  const pages = Math.ceil(expected.length / 7);
  const joined = [];
  for (let page = 1; page <= pages; page++) {
    const r = await vx.get(`/api/calls/events?page=${page}&limit=7`);
    assert.deepEqual(r.body.data.pagination, { page, limit: 7, total: expected.length, totalPages: pages });
    joined.push(...r.body.data.events);
  }
  assert.deepEqual(joined, expected);
  const beyond = await vx.get(`/api/calls/events?page=${pages + 1}&limit=7`);
  assert.deepEqual(beyond.body.data.events, []);

  // The total follows the log: one more call.
  await inboundCallsAgain(vx);
  const after = await vx.get('/api/calls/events?limit=1');
  assert.equal(after.body.data.pagination.total, expected.length + 1);
  assert.equal(after.body.data.events[0].CallSid, 'CA' + 'c'.repeat(32));

  for (const [query, words] of [['limit=101', /'limit' must be between 1 and 100/], ['limit=0', /'limit'/],
    ['page=0', /'page' must be between 1/], ['page=two', /'page' must be a non-negative integer/]]) {
    const bad = await vx.get(`/api/calls/events?${query}`);
    assert.equal(bad.status, 400, query);
    assert.equal(bad.body.success, false);
    assert.match(bad.body.error, words);
    assert.equal(bad.body.error, bad.body.detail);
    assert.equal(bad.body.code, 'invalid_argument');
  }
});

async function inboundCallsAgain(vx) {
  const r = await vx.post('/api/calls/webhooks/status', new URLSearchParams({
    AccountSid: 'AC' + '0'.repeat(32), CallSid: 'CA' + 'c'.repeat(32), CallStatus: 'ringing', Direction: 'inbound',
    From: '+447700900124', To: '+15005550006', SequenceNumber: '0' }));
  assert.equal(r.status, 200);
}

test('GET /api/calls/monthly-summary: every UTC day of the month with inbound and outbound counts', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const sids = await placeCalls(vx);
  const inbound = await inboundCalls(vx);
  await vx.settled();
  const rows = [];
  for (const id of [...Object.values(sids), ...inbound]) rows.push((await vx.get(`/api/calls/${id}`)).body.data);
  // The month of the calls (a run across midnight at a month's end would split them: the first call's).
  const date = rows[0].createdAt.slice(0, 10);
  const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];

  const r = await vx.get(`/api/calls/monthly-summary?year=${year}&month=${month}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const { days, totals, ...head } = r.body;
  assert.deepEqual(head, { success: true, year, month, monthName: MONTHS[month - 1] });
  const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
  assert.equal(days.length, length);
  const zero = () => ({ inbound: { total: 0, answered: 0, missed: 0 }, outbound: { total: 0, completed: 0, failed: 0 }, totalCalls: 0 });
  const want = Array.from({ length }, (_, i) => ({
    date: `${date.slice(0, 8)}${String(i + 1).padStart(2, '0')}`, day: i + 1, ...zero() }));
  const sum = zero();
  for (const row of rows) {
    if (row.createdAt.slice(0, 7) !== date.slice(0, 7)) continue;
    const day = want[Number(row.createdAt.slice(8, 10)) - 1];
    const failure = ['busy', 'no-answer', 'failed', 'canceled'].includes(row.status);
    for (const c of [day, sum]) {
      if (row.direction === 'inbound') {
        c.inbound.total++;
        c.inbound.answered += row.status === 'completed';
        c.inbound.missed += failure;
      } else {
        c.outbound.total++;
        c.outbound.completed += row.status === 'completed';
        c.outbound.failed += failure;
      }
      c.totalCalls++;
    }
  }
  assert.deepEqual(days, want);
  assert.deepEqual(totals, sum);
  if (rows.every((row) => row.createdAt.slice(0, 7) === date.slice(0, 7))) {
    assert.deepEqual(totals, { inbound: { total: 2, answered: 1, missed: 1 }, outbound: { total: 5, completed: 3, failed: 2 }, totalCalls: 7 });
  }

  const current = await vx.get('/api/calls/monthly-summary');
  const now = new Date();
  assert.equal(current.body.year, now.getUTCFullYear());
  assert.equal(current.body.month, now.getUTCMonth() + 1);
  const otherYear = await vx.get(`/api/calls/monthly-summary?year=2001&month=${month}`);
  assert.equal(otherYear.body.totals.totalCalls, 0);
  assert.equal(otherYear.body.days[0].date, `2001-${String(month).padStart(2, '0')}-01`);

  for (const [query, words] of [['year=1999', /'year' must be between 2000 and 2100/],
    ['year=2101', /'year' must be between 2000 and 2100/], ['month=0', /'month' must be between 1 and 12/],
    ['month=13', /'month' must be between 1 and 12/], ['month=may', /'month' must be a non-negative integer/]]) {
    const bad = await vx.get(`/api/calls/monthly-summary?${query}`);
    assert.equal(bad.status, 400, query);
    assert.match(bad.body.error, words, query);
    assert.equal(bad.body.code, 'invalid_argument');
  }
});

test('history and export: lastActivity in epoch ms, eventType status/dtmf/flow, a plain press in dtmfActions', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const sids = await placeCalls(vx);
  await vx.settled();
  const history = await vx.get('/api/calls/history?limit=50');
  assert.equal(history.status, 200);
  const exported = await vx.get('/api/calls/history/export/all');
  assert.equal(exported.status, 200);
  assert.deepEqual(exported.body.data, history.body.data);
  for (const item of history.body.data) {
    const row = (await vx.get(`/api/calls/${item.executionSid}`)).body.data;
    assert.equal(typeof item.lastActivity, 'number');
    assert.equal(item.lastActivity, row.updatedMs);
    assert.equal(item.createdAt, row.createdAt);
    assert.ok(item.lastActivity >= Date.parse(item.createdAt));
    const log = (await vx.get(`/api/calls/${item.executionSid}/events`)).body.data;
    assert.deepEqual(item.events.map((e) => e.id), log.map((e) => e.seq));
    for (const [i, e] of item.events.entries()) {
      assert.equal(e.voxlogType, log[i].type);
      assert.equal(e.eventType, FEED_KINDS[log[i].type] ?? log[i].type);
      assert.equal(e.timestamp, new Date(log[i].ts).toISOString());
    }
  }
  const confirmed = history.body.data.find((c) => c.executionSid === sids.confirmed);
  assert.deepEqual(confirmed.dtmfActions.map((a) => [a.digits, a.action]), [['5', null], ['1', 'confirm_appointment']]);
  assert.ok(confirmed.dtmfActions.every((a) => typeof a.timestamp === 'string'));
  const busy = history.body.data.find((c) => c.executionSid === sids.busy);
  assert.deepEqual(busy.dtmfActions, []);
  assert.ok(busy.events.some((e) => e.eventType === 'status' && e.status === 'busy'));
  const one = await vx.get(`/api/calls/history/${sids.voicemail}`);
  const kinds = new Set(one.body.data.timeline.map((e) => e.eventType));
  for (const kind of ['status', 'dtmf', 'flow']) assert.ok(kinds.has(kind), kind);
  assert.ok(one.body.data.timeline.some((e) => e.eventType === 'dtmf' && e.action === 'connect_to_representative'));
});

test('every error body has error and code beside the problem details', async (t) => {
  const vx = await startVoxlogd({ env: { ...env, API_TOKENS: 'watcher:viewer:viewer-secret-0123456789' } });
  t.after(() => vx.stop());
  const viewer = { Authorization: 'Bearer viewer-secret-0123456789' };
  const cases = [
    [await vx.get('/api/calls/FNnothing', viewer), 404, 'not_found'],
    [await vx.get('/api/calls/history/FNnothing', viewer), 404, 'not_found'],
    [await vx.get('/api/calls/monthly-summary?month=13', viewer), 400, 'invalid_argument'],
    [await vx.get('/api/calls/events'), 401, 'unauthenticated'],
    [await vx.get('/api/calls/history/export/all', viewer), 403, 'permission_denied'],
    [await vx.get('/api/calls/events', { Origin: 'https://evil.example', ...viewer }), 403, 'permission_denied'],
    [await vx.get('/no/such/route', viewer), 404, 'not_found'],
    [await vx.post('/api/calls/start', { to: 'nope' }, viewer), 403, 'permission_denied'],
  ];
  for (const [r, status, code] of cases) {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.equal(r.body.code, code, JSON.stringify(r.body));
    assert.equal(typeof r.body.error, 'string');
    assert.ok(r.body.error.length > 0);
    assert.equal(r.body.error, r.body.detail);
    assert.equal(r.body.message, r.body.detail);
    assert.equal(r.body.success, false);
    assert.equal(r.body.status, status);
    assert.equal(typeof r.body.title, 'string');
  }
});

async function options(vx, path, origin, headers = {}) {
  return fetch(vx.url + path, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET',
    'Access-Control-Request-Headers': 'authorization', ...headers } });
}

test('a CORS preflight to any path is answered for the configured origins, refused for others', async (t) => {
  const vx = await startVoxlogd({ env: { ...env, API_TOKEN: 'admin-secret-0123456789' } });
  t.after(() => vx.stop());
  for (const path of ['/', '/index.html', '/no/such/route', '/api/calls/events', '/api/calls/monthly-summary',
    '/api/calls/webhooks/status', '/socket.io/']) {
    const r = await options(vx, path, DASHBOARD);
    assert.equal(r.status, 204, path);
    assert.equal(r.headers.get('access-control-allow-origin'), DASHBOARD, path);
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true', path);
    assert.match(r.headers.get('access-control-allow-methods'), /GET/, path);
    assert.match(r.headers.get('access-control-allow-headers'), /Authorization/, path);
    const foreign = await options(vx, path, 'https://evil.example');
    assert.equal(foreign.status, 403, path);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null, path);
  }
});

test('the later dashboard\'s requests, as it sends them from its origin with a token, all answer 2xx with their shapes', async (t) => {
  const token = 'admin-secret-0123456789';
  const vx = await startVoxlogd({ env: { ...env, API_TOKEN: token } });
  t.after(() => vx.stop());
  const auth = { Authorization: `Bearer ${token}` };
  await placeCalls(vx, auth);
  await inboundCalls(vx);
  await vx.settled();
  const from = { Origin: DASHBOARD, ...auth };
  const now = new Date();
  const month = `year=${now.getUTCFullYear()}&month=${now.getUTCMonth() + 1}`;
  const requests = [
    ['OPTIONS', '/'],
    ['OPTIONS', '/api/calls/events?page=1&limit=10'],
    ['GET', '/api/calls/events?page=1&limit=10'],
    ['OPTIONS', `/api/calls/monthly-summary?${month}`],
    ['GET', `/api/calls/monthly-summary?${month}`],
    ['GET', '/api/calls/history?limit=10&offset=0'],
    ['GET', '/api/calls/history/export/all'],
  ];
  const bodies = {};
  for (const [method, path] of requests) {
    const r = method === 'OPTIONS' ? await options(vx, path, DASHBOARD) : await vx.get(path, from);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status}`);
    const allowOrigin = r.headers.get('access-control-allow-origin');
    assert.equal(allowOrigin, DASHBOARD, `${method} ${path}`);
    if (method === 'GET') bodies[path.split('?')[0]] = r.body;
  }
  const events = bodies['/api/calls/events'];
  assert.equal(events.success, true);
  assert.equal(events.data.events.length, 10);
  assert.deepEqual(Object.keys(events.data.pagination).sort(), ['limit', 'page', 'total', 'totalPages']);
  for (const e of events.data.events) {
    assert.equal(typeof e.id, 'number');
    assert.equal(typeof e.time, 'number');
    assert.ok(['status', 'dtmf', 'flow'].includes(e.type));
    for (const key of ['execution_sid', 'CallSid', 'To', 'From', 'status', 'digits', 'action'])
      assert.ok(e[key] === null || typeof e[key] === 'string', `${key}: ${e[key]}`);
    assert.equal(typeof e.eventData, 'object');
  }
  const summary = bodies['/api/calls/monthly-summary'];
  assert.equal(summary.success, true);
  assert.equal(summary.monthName, MONTHS[now.getUTCMonth()]);
  assert.equal(summary.days.length, new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate());
  const today = summary.days[now.getUTCDate() - 1];
  assert.equal(today.date, now.toISOString().slice(0, 10));
  assert.ok(summary.totals.totalCalls >= today.totalCalls && today.totalCalls > 0);
  assert.equal(summary.totals.totalCalls, summary.totals.inbound.total + summary.totals.outbound.total);
  const history = bodies['/api/calls/history'];
  assert.equal(history.success, true);
  assert.equal(history.data.length, 7);
  for (const item of history.data) {
    assert.equal(typeof item.lastActivity, 'number');
    assert.ok(!Number.isNaN(new Date(item.lastActivity).getTime()));
    assert.ok(item.events.every((e) => typeof e.eventType === 'string'));
  }
  const exported = bodies['/api/calls/history/export/all'];
  assert.equal(exported.success, true);
  assert.equal(exported.total, 7);
  assert.ok(exported.data.every((item) => typeof item.lastActivity === 'number'));
  // An error as the dashboard shows it: its `error`.
  const bad = await vx.get('/api/calls/events?limit=500', from);
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /100/);
});

test('the history export of thousands of calls is streamed in chunks and is one whole, valid JSON', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const calls = 3000;
  const sid = (i) => 'CA' + String(i).padStart(32, '0');
  for (let i = 0; i < calls; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, calls - i) }, (_, k) => vx.post('/api/calls/webhooks/status',
      new URLSearchParams({ CallSid: sid(i + k), CallStatus: 'completed', SequenceNumber: '1', To: '+447911123456' }))));
    for (const r of batch) assert.equal(r.status, 200);
  }
  const res = await fetch(vx.url + '/api/calls/history/export/all');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed, not built whole');
  assert.match(res.headers.get('content-type'), /application\/json/);
  let pieces = 0;
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    pieces++;
    text += decoder.decode(chunk, { stream: true });
  }
  const body = JSON.parse(text);
  assert.ok(pieces > 1, 'more than one piece');
  assert.equal(body.success, true);
  assert.equal(body.total, calls);
  assert.equal(body.data.length, calls);
  const seen = new Set(body.data.map((item) => item.callSid ?? item.executionSid));
  assert.equal(seen.size, calls, 'every call once');
  const history = await vx.get('/api/calls/history?limit=50');
  assert.deepEqual(body.data.slice(0, 50), history.body.data, 'in the order of the history, newest first');
});
