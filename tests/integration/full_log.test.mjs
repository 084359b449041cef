// A log that runs out of room (LOG_MAP_BYTES): every webhook it cannot take is refused with 503 and
// Retry-After, never a 500 and never a false 200; every 200 is in the log; reads keep answering from the
// views; the server keeps serving and stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd } from '../lib/voxlogd.mjs';

test('a full log refuses with 503 and Retry-After, never 500; reads go on; a restart on it too', async (t) => {
  const vx = await startVoxlogd({ env: { LOG_MAP_BYTES: String(1 << 20) }, keepDataDir: true });
  t.after(() => vx.stop({ removeData: true }));
  const results = [];
  let refused = 0;
  for (let wave = 0; wave < 400 && refused < 32; wave++) {
    const batch = await Promise.all(Array.from({ length: 16 }, (_, k) => {
      const i = wave * 16 + k;
      return vx.post('/api/calls/webhooks/status', new URLSearchParams({
        CallSid: 'CA' + String(i).padStart(32, '0'), CallStatus: 'ringing', SequenceNumber: '1',
        To: '+447911123456', Pad: 'x'.repeat(200),
      })).then((r) => ({ i, ...r }));
    }));
    results.push(...batch);
    refused += batch.filter((r) => r.status !== 200).length;
  }
  assert.ok(refused >= 32, `the log never filled up: ${results.length} webhooks accepted`);
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.equal(r.status, 503, `webhook ${r.i}: ${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After');
    assert.match(r.body.detail, /full/);
  }
  const accepted = results.filter((r) => r.status === 200);
  assert.ok(accepted.length > 100, 'webhooks were accepted before the log filled');
  const known = new Set();
  for (let cursor = ''; ;) {
    const page = await vx.get(`/api/calls?limit=500${cursor}`);
    assert.equal(page.status, 200, 'reads keep answering');
    for (const c of page.body.data) known.add(c.callSid);
    if (!page.body.nextCursor) break;
    cursor = `&cursor=${page.body.nextCursor}`;
  }
  for (const r of accepted) assert.ok(known.has('CA' + String(r.i).padStart(32, '0')), `acknowledged webhook ${r.i} is in the view`);
  const health = await vx.get('/healthz');
  assert.equal(health.status, 200, 'still serving');
  assert.equal(health.body.status, 'degraded');
  assert.match(health.body.log, /full/);

  // Started again on the full log: it starts and serves what it has; a write finds it full (a small one
  // may still fit) and gets 503 with Retry-After; /healthz says degraded.
  await vx.restart();
  let again;
  for (let i = 0; i < 64; i++) {
    again = await vx.post('/api/calls/webhooks/status', new URLSearchParams({
      CallSid: 'CA' + String(i).padStart(32, 'f'), CallStatus: 'ringing', SequenceNumber: '1', To: '+447911123456', Pad: 'x'.repeat(200) }));
    if (again.status !== 200) break;
  }
  assert.equal(again.status, 503, JSON.stringify(again.body));
  assert.ok(Number(again.headers.get('retry-after')) >= 1);
  assert.equal((await vx.get('/api/calls?limit=1')).status, 200);
  assert.equal((await vx.get('/healthz')).body.status, 'degraded');
});
