// A campaign whose decisions cannot be written (the log is full) waits and retries them, never dropping one;
// started again with room in the log, it completes with every contact, each attempt placed once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';

test('a full log holds a campaign back: its writes are retried, and after a restart with room it completes', async (t) => {
  const env = { LOG_MAP_BYTES: String(1 << 20), SIM_TIME_SCALE: '0.002', TWILIO_CPS: '20', CAMPAIGN_CHECK_MS: '1000' };
  const vx = await startVoxlogd({ env, keepDataDir: true });
  const contacts = Array.from({ length: 5 }, (_, i) => ({ phone: `+44740012350${i}` }));
  // It starts in 12 s: by then the log is full.
  const startMs = Date.now() + 12000;
  const startAt = new Date(startMs).toISOString();
  const created = await vx.post('/api/campaigns', { name: 'full', start_at: startAt, contacts });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.id;
  let refused = 0;
  for (let wave = 0; wave < 400 && refused < 16; wave++) {
    const batch = await Promise.all(Array.from({ length: 16 }, (_, k) => vx.post('/api/calls/webhooks/status',
      new URLSearchParams({ CallSid: 'CA' + String(wave * 16 + k).padStart(32, '0'), CallStatus: 'ringing',
        SequenceNumber: '1', To: '+447911123456', Pad: 'x'.repeat(200) }))));
    refused += batch.filter((r) => r.status === 503).length;
  }
  assert.ok(refused >= 16, 'the log filled up');
  assert.ok(Date.now() < startMs, 'the log filled before the campaign started');
  await eventually(async () => /campaign .*write failed, retrying/.test(vx.output()), 30000,
    'the campaign to retry its first decision');
  const stuck = (await vx.get(`/api/campaigns/${id}`)).body.data;
  assert.notEqual(stuck.state, 'completed', 'the campaign waits for room');
  await vx.stop({ removeData: false });

  const roomy = await startVoxlogd({ env: { ...env, LOG_MAP_BYTES: String(64 << 20) }, dataDir: vx.dataDir });
  t.after(() => roomy.stop());
  const done = await eventually(async () => {
    const c = (await roomy.get(`/api/campaigns/${id}`)).body.data;
    return c.state === 'completed' ? c : null;
  }, 30000, 'the campaign to complete');
  const final = ['confirmed', 'cancelled', 'voicemail', 'opted_out', 'no_outcome', 'unreachable'].reduce((n, s) => n + done.counts[s], 0);
  assert.equal(final, 5, JSON.stringify(done.counts));
  // Nothing decided twice: one attempt per contact was placed at most once.
  const placed = [];
  for (let after = 0; ;) {
    const page = (await roomy.get(`/api/events?limit=1000&after=${after}`)).body.events;
    placed.push(...page.filter((e) => e.type === 'ExecutionCreated' && e.data.campaign_id === id).map((e) => `${e.data.phone}#${e.data.attempt}`));
    if (page.length < 1000) break;
    after = page.at(-1).seq;
  }
  assert.equal(new Set(placed).size, placed.length, placed.join());
  assert.equal(placed.length, 5);
});
