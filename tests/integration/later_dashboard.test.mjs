// Issue 18 item 7: the Node app's later dashboard, every request of the list in the order a user's
// session sends them (from the dashboard's origin, with a token), against the real voxlogd with two Twilio
// accounts played by its built-in simulator: each answers 2xx with the shape the dashboard reads. The
// finer points of each route are in node_later_api, queues_lists and accounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';

const DASHBOARD = 'http://localhost:3000';
const TOKEN = 'admin-secret-0123456789';
const TERMINAL = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

function keys(object) {
  return Object.keys(object).sort();
}

test('the later dashboard\'s requests (events, monthly summary, queues, lists, regions, history) all answer 2xx with its shapes', async (t) => {
  const vx = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.002', TWILIO_CPS: '50', API_TOKEN: TOKEN,
    TWILIO_REGION: 'poland', TWILIO_ACCOUNTS: 'uk', TWILIO_UK_AUTH_TOKEN: 'uk-simulated-token-0123456789abcdef',
    TWILIO_UK_PHONE_NUMBER: '+442071234567' } });
  t.after(() => vx.stop());
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const now = new Date();
  const sim = (await vx.get('/healthz', auth)).body.simulatorUrl;
  const numbers = ['+447911125001', '+447911125002', '+447911125003', '+48601125004', '+447911125005'];
  for (const to of numbers) {
    await fetch(sim + '/__sim/script', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to, answer: 'human', digits: '1' }) });
  }

  // Every request as the dashboard sends it: its origin, its token, a preflight first where a browser makes one.
  const seen = [];
  async function send(method, path, body, contentType = 'application/json') {
    const preflight = await fetch(vx.url + path, { method: 'OPTIONS', headers: { Origin: DASHBOARD,
      'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization,content-type' } });
    assert.ok(preflight.status >= 200 && preflight.status < 300, `OPTIONS ${path}: ${preflight.status}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), DASHBOARD, `OPTIONS ${path}`);
    const headers = { Origin: DASHBOARD, ...auth };
    if (body !== undefined) headers['Content-Type'] = contentType;
    const res = await fetch(vx.url + path, { method, headers,
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
    const parsed = await res.json();
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    assert.equal(res.headers.get('access-control-allow-origin'), DASHBOARD, `${method} ${path}`);
    assert.equal(parsed.success, true, `${method} ${path}`);
    seen.push(`${method} ${path.split('?')[0]}`);
    return parsed;
  }

  assert.equal((await fetch(vx.url + '/', { method: 'OPTIONS', headers: { Origin: DASHBOARD,
    'Access-Control-Request-Method': 'GET' } })).status, 204, 'OPTIONS /');

  // A call per region, and a bulk call in one.
  const uk = await send('POST', '/api/calls/start', { to: numbers[0], region: 'uk' });
  assert.deepEqual(keys(uk), ['data', 'message', 'success']);
  assert.match(uk.data.execution_sid, /^FN\w{32}$/);
  assert.equal(uk.data.region, 'uk');
  const poland = await send('POST', '/api/calls/start', { to: numbers[3], region: 'poland' });
  assert.equal(poland.data.region, 'poland');
  const bulk = await send('POST', '/api/calls/start-bulk', { phoneNumbers: [numbers[1]], region: 'uk' });
  for (const key of ['total', 'initiated', 'batchId']) assert.ok(key in bulk.data, key);
  assert.equal(bulk.data.initiated, 1);

  // A list, called as a queue, read, paused, started.
  const list = await send('POST', '/api/lists?name=Friday', `phone,name\n${numbers[2]},Ann\n${numbers[4]},Bob\n`, 'text/csv');
  assert.equal(list.data.accepted, 2);
  const lists = await send('GET', '/api/lists');
  assert.ok(lists.data.some((l) => l.id === list.data.id && l.contacts === 2));
  const fromList = await send('POST', '/api/calls/start-bulk-from-list', { listId: list.data.id, region: 'uk' });
  for (const key of ['total', 'initiated', 'batchId', 'queueId']) assert.ok(key in fromList.data, key);
  // A second queue of the list, for next year: the one the user pauses, starts again and deletes (a queue
  // that is over cannot be deleted: its calls are history).
  const later = await send('POST', '/api/calls/start-bulk-from-list', { listId: list.data.id, region: 'uk',
    start_at: `${now.getUTCFullYear() + 1}-01-04T09:00:00Z` });
  const queueId = later.data.queueId;
  const queueKeys = ['completedCalls', 'createdAt', 'failedCalls', 'id', 'inProgressCalls', 'name', 'pendingCalls',
    'region', 'status', 'totalCalls', 'updatedAt'];
  const queues = await send('GET', '/api/calls/queues');
  assert.deepEqual(queues.data.map((q) => q.id).filter((id) => [fromList.data.queueId, queueId].includes(id)).sort(),
    [fromList.data.queueId, queueId].sort());
  for (const queue of queues.data) {
    for (const key of queueKeys) assert.ok(key in queue, key);
    for (const key of ['completedCalls', 'failedCalls', 'pendingCalls', 'inProgressCalls', 'totalCalls', 'createdAt', 'updatedAt'])
      assert.equal(typeof queue[key], 'number', key);
    assert.equal(queue.region, 'uk');
  }
  assert.equal((await send('GET', `/api/calls/queue/${queueId}`)).data.totalCalls, 2);
  assert.equal((await send('POST', `/api/calls/queue/${queueId}/pause`)).data.status, 'paused');
  assert.notEqual((await send('POST', `/api/calls/queue/${queueId}/start`)).data.status, 'paused');

  // Every call ends (the queue's two, the bulk one, the two single ones).
  await eventually(async () => {
    const r = await vx.get('/api/calls?limit=50', auth);
    return r.body.data.length === 5 && r.body.data.every((c) => TERMINAL.includes(c.status));
  }, 30000, 'the five calls to end');
  await vx.settled();

  // The live list, the monthly calendar, the history and its export.
  const events = await send('GET', '/api/calls/events?page=1&limit=10');
  assert.deepEqual(keys(events.data), ['events', 'pagination']);
  assert.deepEqual(keys(events.data.pagination), ['limit', 'page', 'total', 'totalPages']);
  assert.equal(events.data.events.length, 10);
  for (const e of events.data.events) {
    assert.deepEqual(keys(e), ['CallSid', 'From', 'To', 'action', 'digits', 'eventData', 'execution_sid', 'id', 'status', 'time', 'type']);
    assert.ok(['status', 'dtmf', 'flow'].includes(e.type));
    assert.equal(typeof e.time, 'number');
  }
  const month = new Date();  // after the calls: they were all made in this month (unless at its very last ms)
  const summary = await send('GET', `/api/calls/monthly-summary?year=${month.getUTCFullYear()}&month=${month.getUTCMonth() + 1}`);
  assert.deepEqual(keys(summary), ['days', 'month', 'monthName', 'success', 'totals', 'year']);
  assert.equal(summary.monthName, MONTHS[month.getUTCMonth()]);
  for (const day of summary.days) {
    assert.deepEqual(keys(day), ['date', 'day', 'inbound', 'outbound', 'totalCalls']);
    assert.deepEqual(keys(day.inbound), ['answered', 'missed', 'total']);
    assert.deepEqual(keys(day.outbound), ['completed', 'failed', 'total']);
  }
  assert.equal(summary.totals.outbound.total, 5);
  const history = await send('GET', '/api/calls/history?limit=10&offset=0');
  assert.equal(history.data.length, 5);
  for (const item of history.data) {
    assert.equal(typeof item.lastActivity, 'number');
    assert.ok(['uk', 'poland'].includes(item.region));
    assert.ok(item.events.some((e) => ['status', 'dtmf', 'flow'].includes(e.eventType)));
    assert.ok(Array.isArray(item.dtmfActions));
  }
  assert.deepEqual(history.data.map((c) => c.region).sort(), ['poland', 'uk', 'uk', 'uk', 'uk']);
  const exported = await send('GET', '/api/calls/history/export/all');
  assert.equal(exported.total, 5);

  // The queue and the list deleted.
  assert.equal((await send('DELETE', `/api/calls/queue/${queueId}`)).data.status, 'cancelled');
  await send('DELETE', `/api/lists/${list.data.id}`);

  assert.deepEqual(seen, [
    'POST /api/calls/start', 'POST /api/calls/start', 'POST /api/calls/start-bulk', 'POST /api/lists', 'GET /api/lists',
    'POST /api/calls/start-bulk-from-list', 'POST /api/calls/start-bulk-from-list', 'GET /api/calls/queues', `GET /api/calls/queue/${queueId}`,
    `POST /api/calls/queue/${queueId}/pause`, `POST /api/calls/queue/${queueId}/start`, 'GET /api/calls/events',
    'GET /api/calls/monthly-summary', 'GET /api/calls/history', 'GET /api/calls/history/export/all',
    `DELETE /api/calls/queue/${queueId}`, `DELETE /api/lists/${list.data.id}`,
  ]);
});
