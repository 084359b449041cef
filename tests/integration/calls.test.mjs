// Issue 4: placing calls through the embedded Twilio simulator (it runs flow.json and calls our webhooks back
// over real HTTP): every outcome of the mix, bulk counts, retries without a second call, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually, sleep } from '../lib/voxlogd.mjs';

async function simulator(vx) {
  const url = (await vx.get('/healthz')).body.simulatorUrl;
  assert.ok(url, 'voxlogd runs its simulator when no Twilio credentials are set');
  const admin = async (path, body) => {
    const res = await fetch(url + path, body === undefined ? {} : {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return res.json();
  };
  return { url, script: (s) => admin('/__sim/script', s), faults: (f) => admin('/__sim/faults', f), stats: () => admin('/__sim/stats') };
}

const env = { SIM_TIME_SCALE: '0.002', TWILIO_CPS: '50' };

// Waits for the call's row to reach a terminal state and returns {row, events}.
async function finishedCall(vx, executionSid) {
  const row = await eventually(async () => {
    const r = await vx.get(`/api/calls/${executionSid}`);
    return r.status === 200 && ['completed', 'busy', 'no-answer', 'failed', 'canceled'].includes(r.body.data.status) ? r.body.data : null;
  }, 20000, `call ${executionSid} to end`);
  await vx.settled();
  const events = (await vx.get(`/api/calls/${executionSid}/events`)).body.data;
  return { row: (await vx.get(`/api/calls/${executionSid}`)).body.data, events, first: row };
}

const outcomes = [
  { name: 'human presses 1', script: { answer: 'human', digits: '1' }, status: 'completed', outcome: 'confirmed', type: 'AppointmentConfirmed' },
  { name: 'human presses 2', script: { answer: 'human', digits: '2' }, status: 'completed', outcome: 'cancelled', type: 'AppointmentCancelled' },
  { name: 'human presses 0 and leaves a voicemail', script: { answer: 'human', digits: '0', voicemail: 'recorded' }, status: 'completed', outcome: 'voicemail', type: 'RecordingAvailable' },
  { name: 'human presses nothing', script: { answer: 'human', digits: '' }, status: 'completed', outcome: null, type: 'FlowEventReceived' },
  { name: 'answering machine', script: { answer: 'machine' }, status: 'completed', outcome: 'machine', type: 'FlowEventReceived' },
  { name: 'busy', script: { answer: 'busy' }, status: 'busy', outcome: 'busy', type: 'CallStatusChanged' },
  { name: 'no answer', script: { answer: 'no-answer' }, status: 'no-answer', outcome: 'no-answer', type: 'CallStatusChanged' },
  { name: 'failed', script: { answer: 'failed' }, status: 'failed', outcome: 'failed', type: 'CallStatusChanged' },
];

test('start places a call that runs to the simulated outcome, for each outcome of the mix', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  const ws = vx.ws('/ws');
  await ws.opened;
  for (const [i, o] of outcomes.entries()) {
    const to = `+4479111234${String(10 + i)}`;
    await sim.script({ to, ...o.script });
    const res = await vx.post('/api/calls/start', { to });
    assert.equal(res.status, 200, `${o.name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.success, true);
    const sid = res.body.data.execution_sid;
    assert.match(sid, /^FN[0-9a-f]{32}$/);
    const { row, events } = await finishedCall(vx, sid);
    assert.equal(row.status, o.status, o.name);
    assert.equal(row.outcome, o.outcome, o.name);
    assert.equal(row.to, to, o.name);
    assert.equal(row.executionSid, sid);
    assert.match(row.callSid ?? '', o.status === 'failed' ? /.*/ : /^CA[0-9a-f]{32}$/, o.name);
    const types = events.map((e) => e.type);
    // The flow may report its first step before the dialer has recorded Twilio's answer: both are there.
    assert.equal(types.filter((x) => x === 'ExecutionCreated').length, 1, `${o.name}: ${types}`);
    assert.ok(types.includes(o.type), `${o.name}: ${types}`);
    assert.ok(events.filter((e) => e.type === 'WebhookReceived').every((e) => e.data.params.execution_sid === sid));
    // The WebSocket saw the same call reach the same state.
    await ws.waitFor((m) => m.some((x) => x.call?.executionSid === sid && x.call.status === o.status), 10000, `${o.name} on /ws`);
  }
  // Every request is an event: CallRequested before each ExecutionCreated.
  const log = (await vx.get('/api/events?limit=1000')).body.events;
  assert.equal(log.filter((e) => e.type === 'CallRequested').length, outcomes.length);
  assert.equal(log.filter((e) => e.type === 'ExecutionCreated').length, outcomes.length);
  const stats = await sim.stats();
  assert.ok(stats.webhooks_sent > 0);
  assert.equal(stats.webhook_results['200'], stats.webhooks_sent, 'every webhook was accepted: ' + JSON.stringify(stats));
  ws.close();
});

test('start refuses a bad number with a 400 naming it and a number already in flight with a 409', async (t) => {
  const vx = await startVoxlogd({ env: { ...env, SIM_TIME_SCALE: '0.05' } });
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  const before = await sim.stats();
  const bad = await vx.post('/api/calls/start', { to: '+44 12' });
  assert.equal(bad.status, 400);
  assert.match(bad.body.detail, /\+44 12/);
  assert.equal(bad.body.success, false);
  const missing = await vx.post('/api/calls/start', { number: '+447700900123' });
  assert.equal(missing.status, 400);
  assert.deepEqual(await sim.stats().then((s) => s.create_requests), before.create_requests, 'nothing was dialled');

  const to = '+447911123200';
  await sim.script({ to, answer: 'human', digits: '1' });
  const first = await vx.post('/api/calls/start', { to });
  assert.equal(first.status, 200);
  const second = await vx.post('/api/calls/start', { to: '07911 123200' });  // the same number, national format
  assert.equal(second.status, 409, JSON.stringify(second.body));
  assert.match(second.body.detail, /in flight/);
  await finishedCall(vx, first.body.data.execution_sid);
  await sim.script({ to, answer: 'busy' });
  const third = await vx.post('/api/calls/start', { to });
  assert.equal(third.status, 200, 'once the call is over the number can be called again');
});

test('start-bulk with 10 numbers (one invalid, one duplicate) gives the right counts and a completion event', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  const ws = vx.ws('/ws');
  await ws.opened;
  const numbers = Array.from({ length: 8 }, (_, i) => `+44791112330${i}`);
  for (const to of numbers) await sim.script({ to, answer: 'human', digits: '1' });
  const res = await vx.post('/api/calls/start-bulk', { phoneNumbers: [...numbers, 'not-a-number', numbers[3]] });
  assert.equal(res.status, 200);
  assert.equal(res.body.success, true);
  assert.equal(res.body.data.total, 10);
  assert.equal(res.body.data.initiated, 8);
  const batchId = res.body.data.batchId;
  // BatchDialled: every call placed (the Node app's bulkCallComplete); the campaign completes once they end.
  const messages = await ws.waitFor((m) => m.some((x) => x.event.type === 'BatchDialled'), 20000, 'BatchDialled');
  const done = messages.find((x) => x.event.type === 'BatchDialled').event.data;
  assert.equal(done.batch_id, batchId);
  assert.equal(done.total, 10);
  assert.equal(done.success, 8);
  assert.equal(done.failed, 2);
  assert.equal(done.results.length, 8);
  assert.deepEqual(done.errors.map((e) => e.to).sort(), [numbers[3], 'not-a-number'].sort());
  const stats = await sim.stats();
  assert.equal(stats.executions_created, 8, 'each valid number dialled exactly once: ' + JSON.stringify(stats));
  ws.close();
});

test('a single call started during a batch is placed next, not after the whole batch', async (t) => {
  const vx = await startVoxlogd({ env: { ...env, TWILIO_CPS: '5' } });  // the batch takes about 2 s
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  const numbers = Array.from({ length: 10 }, (_, i) => `+44791112340${i}`);
  const single = '+447911123499';
  for (const to of [...numbers, single]) await sim.script({ to, answer: 'human', digits: '1' });
  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: numbers });
  assert.equal(bulk.status, 200);
  const one = await vx.post('/api/calls/start', { to: single });
  assert.equal(one.status, 200, JSON.stringify(one.body));
  await eventually(async () => (await vx.get('/api/events?limit=1000')).body.events
    .some((e) => e.type === 'BatchDialled'), 20000, 'BatchDialled');
  const events = (await vx.get('/api/events?limit=1000')).body.events;
  const created = events.filter((e) => e.type === 'ExecutionCreated').map((e) => e.data.to);
  assert.equal(created.length, 11);
  // Placed behind at most the batch call under way and the one already queued when it arrived.
  assert.ok(created.indexOf(single) <= 2, `the single call was placed ${created.indexOf(single) + 1}th: ${created}`);
  assert.deepEqual(created.filter((to) => to !== single), numbers, 'the batch keeps its order');
});

test('a batch can be paused and resumed: no call is placed while it is paused, and each change is an event', async (t) => {
  const vx = await startVoxlogd({ env: { ...env, TWILIO_CPS: '10' } });
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  const numbers = Array.from({ length: 10 }, (_, i) => `+44791112350${i}`);
  for (const to of numbers) await sim.script({ to, answer: 'human', digits: '1' });
  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: numbers });
  const batchId = bulk.body.data.batchId;
  const placed = async () => (await vx.get('/api/events?limit=1000')).body.events
    .filter((e) => e.type === 'ExecutionCreated' && e.data.campaign_id === batchId).length;

  const paused = await vx.post(`/api/campaigns/${batchId}/pause`);
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  assert.deepEqual([paused.body.data.paused, paused.body.data.changed], [true, true]);
  const remaining = paused.body.data.remaining;
  assert.ok(remaining >= 8, `paused at once, with ${remaining} of 10 calls left`);
  // The call being placed when the pause came is placed (then nothing more).
  await eventually(async () => (await placed()) === 10 - remaining, 5000, 'the call under way is placed');
  await sleep(1000);  // at 10 calls/s the whole batch would be placed by now
  assert.equal(await placed(), 10 - remaining, 'no call is placed while the batch is paused');
  const again = await vx.post(`/api/campaigns/${batchId}/pause`);
  assert.deepEqual([again.status, again.body.data.changed, again.body.message], [200, false, 'Campaign already paused']);

  const single = await vx.post('/api/calls/start', { to: '+447911123599' });  // single calls still go
  assert.equal(single.status, 200, JSON.stringify(single.body));

  const resumed = await vx.post(`/api/campaigns/${batchId}/resume`);
  assert.deepEqual([resumed.status, resumed.body.data.paused, resumed.body.data.remaining], [200, false, remaining]);
  const done = await eventually(async () => (await vx.get('/api/events?limit=1000')).body.events
    .find((e) => e.type === 'BatchDialled' && e.data.batch_id === batchId), 20000, 'BatchDialled');
  assert.equal(done.data.success, 10);
  assert.equal(await placed(), 10);
  await eventually(async () => (await vx.get(`/api/campaigns/${batchId}`)).body.data.state === 'completed', 20000,
    'the campaign completes once its calls have ended');
  const batchEvents = (await vx.get('/api/events?limit=1000')).body.events
    .filter((e) => e.stream === `campaign-${batchId}`).map((e) => e.type);
  const pausedAt = batchEvents.indexOf('CampaignPaused');
  const resumedAt = batchEvents.indexOf('CampaignResumed');
  assert.ok(pausedAt > 0 && resumedAt > pausedAt, batchEvents.join());
  assert.ok(!batchEvents.slice(pausedAt, resumedAt).includes('CallQueued'), 'nobody is queued while paused');
  assert.equal(batchEvents.at(-1), 'CampaignCompleted');
  assert.equal(batchEvents.filter((e) => e === 'CallQueued').length, 10);

  const over = await vx.post(`/api/campaigns/${batchId}/resume`);
  assert.equal(over.status, 409, 'a finished campaign cannot be resumed');
  assert.match(over.headers.get('content-type'), /application\/problem\+json/);
  const unknown = await vx.post('/api/campaigns/BTnosuchbatch/pause');
  assert.equal(unknown.status, 404);
});

test('with API_TOKEN, starting, pausing and resuming calls need it; refused requests change nothing', async (t) => {
  const token = 'calls-secret-token';
  const vx = await startVoxlogd({ env: { ...env, API_TOKEN: token } });
  t.after(() => vx.stop());
  const auth = { Authorization: `Bearer ${token}` };
  const before = (await vx.get('/healthz')).body.lastSeq;
  const refused = [
    await vx.post('/api/calls/start', { to: '+447911123601' }),
    await vx.post('/api/calls/start-bulk', { phoneNumbers: ['+447911123602'] }),
    await vx.post('/api/campaigns/BTany/pause'),
    await vx.post('/api/campaigns/BTany/resume'),
  ];
  for (const r of refused) {
    assert.equal(r.status, 401, JSON.stringify(r.body));
    assert.match(r.headers.get('content-type'), /application\/problem\+json/);
    assert.ok(!JSON.stringify(r.body).includes(token));
  }
  assert.equal((await vx.get('/healthz')).body.lastSeq, before, 'nothing was recorded');
  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: ['+447911123602'] }, auth);
  assert.equal(bulk.status, 200);
  const pause = await vx.post(`/api/campaigns/${bulk.body.data.batchId}/pause`, undefined, auth);
  assert.ok([200, 404].includes(pause.status), 'authorized: paused, or already finished');
});

test('429s and a dropped connection are retried without calling anyone twice', async (t) => {
  const vx = await startVoxlogd({ env });
  t.after(() => vx.stop());
  const sim = await simulator(vx);
  await sim.faults({ create_429: 2 });
  const a = await vx.post('/api/calls/start', { to: '+447911123401' });
  assert.equal(a.status, 200, JSON.stringify(a.body));
  let stats = await sim.stats();
  assert.equal(stats.executions_created, 1);

  await sim.faults({ create_drop: 1 });
  const b = await vx.post('/api/calls/start', { to: '+447911123402' });
  assert.equal(b.status, 200, JSON.stringify(b.body));
  stats = await sim.stats();
  assert.equal(stats.executions_created, 2, 'the dropped create was adopted, not repeated: ' + JSON.stringify(stats));
  await vx.settled();
  const created = (await vx.get('/api/events?limit=1000')).body.events.filter((e) => e.type === 'ExecutionCreated');
  assert.equal(created.length, 2);
  assert.equal(created.find((e) => e.data.to === '+447911123402').data.adopted, true);
});
