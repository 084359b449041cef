// The Node app's call queues and "call a list" (issue 18 item 3) on voxlog's campaigns and contact lists:
// a list imported by CSV, called with start-bulk-from-list; the queue routes read and control that campaign.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';

async function send(vx, method, path, body, contentType = 'application/json') {
  const res = await fetch(vx.url + path, {
    method, headers: body === undefined ? {} : { 'Content-Type': contentType },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: res.status, body: parsed };
}

test('a list imported by CSV is called as a queue; the queue routes pause, start and delete it', async (t) => {
  const vx = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.002', TWILIO_CPS: '2' } });
  t.after(() => vx.stop());
  const sim = (await vx.get('/healthz')).body.simulatorUrl;
  const numbers = Array.from({ length: 8 }, (_, i) => `+44791112780${i}`);
  for (const to of numbers) {
    await fetch(sim + '/__sim/script', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to, answer: 'human', digits: '1' }) });
  }
  const csv = 'phone,name\r\n' + numbers.map((n, i) => `${n},Patient ${i}`).join('\r\n') + '\r\nbad,Nobody\r\n';
  const created = await send(vx, 'POST', '/api/lists?name=Monday%20patients', csv, 'text/csv');
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.deepEqual([created.body.data.name, created.body.data.accepted, created.body.data.rejected.length],
    ['Monday patients', 8, 1]);
  const listId = created.body.data.id;
  const lists = (await vx.get('/api/lists')).body.data;
  assert.deepEqual(lists.map((l) => [l.id, l.name, l.contacts]), [[listId, 'Monday patients', 8]]);

  const started = await vx.post('/api/calls/start-bulk-from-list', { listId, cps: 2 });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  assert.equal(started.body.data.initiated, 8);
  const queueId = started.body.data.queueId;
  assert.equal(started.body.data.batchId, queueId);

  const queues = (await vx.get('/api/calls/queues')).body.data;
  const queue = queues.find((q) => q.id === queueId);
  assert.ok(queue, JSON.stringify(queues));
  assert.equal(queue.totalCalls, 8);
  for (const key of ['completedCalls', 'failedCalls', 'pendingCalls', 'inProgressCalls', 'createdAt', 'updatedAt'])
    assert.equal(typeof queue[key], 'number', key);

  const paused = await vx.post(`/api/calls/queue/${queueId}/pause`);
  assert.deepEqual([paused.status, paused.body.data.status], [200, 'paused']);
  const restarted = await vx.post(`/api/calls/queue/${queueId}/start`);
  assert.deepEqual([restarted.status, restarted.body.data.status], [200, 'running']);
  await eventually(async () => (await vx.get(`/api/calls/queue/${queueId}`)).body.data.completedCalls >= 1, 10000,
    'a call of the list completed');
  const deleted = await send(vx, 'DELETE', `/api/calls/queue/${queueId}`);
  assert.deepEqual([deleted.status, deleted.body.data.status], [200, 'cancelled']);
  assert.equal((await vx.get('/api/calls/queue/CMnosuch')).status, 404);

  // The calls heard the list's names.
  const executions = (await (await fetch(sim + '/__sim/executions')).json()).executions;
  assert.ok(executions.length >= 1);
  for (const e of executions) assert.match(e.heard[0], /^Hello Patient \d\./);

  assert.equal((await send(vx, 'DELETE', `/api/lists/${listId}`)).status, 200);
  assert.deepEqual((await vx.get('/api/lists')).body.data, []);
  assert.equal((await vx.post('/api/calls/start-bulk-from-list', { listId })).status, 404, 'a deleted list is gone');
  assert.equal((await vx.post('/api/calls/start-bulk-from-list', {})).status, 400);
});
