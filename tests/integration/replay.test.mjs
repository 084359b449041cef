// The log is the truth: every view is a projection that can be deleted and rebuilt from the log with one
// command, and the rebuilt view equals the live one byte for byte (`voxlog replay`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startVoxlogd, eventually, tempDir } from '../lib/voxlogd.mjs';

const CLI = process.env.VOXLOG_CLI || new URL('../../build/tools/voxlog/voxlog', import.meta.url).pathname;

function voxlog(dataDir, ...args) {
  return spawnSync(CLI, ['--data', dataDir, ...args], { encoding: 'utf8' });
}

async function liveCalls(vx) {
  await vx.settled();
  const rows = (await vx.get('/api/calls?limit=500')).body.data;
  const trails = {};
  for (const row of rows) trails[row.id] = (await vx.get(`/api/calls/${row.id}/events`)).body;
  return { rows, trails };
}

test('voxlog replay rebuilds the calls view from the log, equal byte for byte to the live one', async (t) => {
  const vx = await startVoxlogd({ env: { SIM_TIME_SCALE: '0.002', TWILIO_CPS: '50' }, keepDataDir: true });
  t.after(() => rmSync(vx.dataDir, { recursive: true, force: true }));
  const sim = (await vx.get('/healthz')).body.simulatorUrl;
  const numbers = ['+447911123501', '+447911123502', '+447911123503', '+447911123504', '+447911123505'];
  const scripts = [{ answer: 'human', digits: '1' }, { answer: 'human', digits: '2' }, { answer: 'busy' },
    { answer: 'human', digits: '0', voicemail: 'recorded' }, { answer: 'machine' }];
  for (const [i, to] of numbers.entries())
    await fetch(sim + '/__sim/script', { method: 'POST', body: JSON.stringify({ to, ...scripts[i] }), headers: { 'Content-Type': 'application/json' } });
  const bulk = await vx.post('/api/calls/start-bulk', { phoneNumbers: numbers });
  assert.equal(bulk.body.data.initiated, 5);
  // And a call known only from Twilio's form-encoded status callbacks.
  await vx.post('/api/calls/webhooks/status', new URLSearchParams({ CallSid: 'CA' + 'c'.repeat(32), CallStatus: 'ringing', SequenceNumber: '1', To: '+447911123599' }));
  await eventually(async () => {
    const rows = (await vx.get('/api/calls?limit=500')).body.data;
    return rows.filter((r) => r.executionSid && ['completed', 'busy'].includes(r.status)).length === 5;
  }, 20000, 'the five calls to end');
  const before = await liveCalls(vx);
  await vx.stop({ removeData: false });

  const check = voxlog(vx.dataDir, 'replay', '--check');
  assert.equal(check.status, 0, check.stderr + check.stdout);
  assert.match(check.stdout, /identical/);

  const inPlace = voxlog(vx.dataDir, 'replay');
  assert.equal(inPlace.status, 0, inPlace.stderr);
  assert.match(inPlace.stdout, /now comes from the log/);
  await vx.restart();
  assert.deepEqual(await liveCalls(vx), before, 'the API serves the same calls from the rebuilt view');
  assert.equal(voxlog(vx.dataDir, 'verify').status, 0);
  await vx.stop({ removeData: false });
});

test('voxlog replay --check fails, naming the difference, when the live view does not match the log', async (t) => {
  const a = await startVoxlogd();
  const b = await startVoxlogd();
  t.after(async () => {
    for (const vx of [a, b]) rmSync(vx.dataDir, { recursive: true, force: true });
  });
  await a.post('/api/calls/webhooks/status', { execution_sid: 'FN1', event: 'answered' });
  await b.post('/api/calls/webhooks/status', { execution_sid: 'FN1', event: 'busy' });
  await a.settled();
  await b.settled();
  await a.stop({ removeData: false });
  await b.stop({ removeData: false });
  rmSync(join(a.dataDir, 'views'), { recursive: true, force: true });
  cpSync(join(b.dataDir, 'views'), join(a.dataDir, 'views'), { recursive: true });  // b's view over a's log
  const check = voxlog(a.dataDir, 'replay', '--check');
  assert.equal(check.status, 1);
  assert.match(check.stderr, /differs/);
  assert.match(check.stderr, /busy|in-progress/);
});
