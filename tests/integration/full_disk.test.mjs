// A full disk (a real one: a small tmpfs filled to the last byte), not only a full LMDB map: voxlogd
// starts on it with the log it has and serves reads (writes get 503 with Retry-After, /healthz says
// degraded), recovers by itself once space returns, and stops cleanly. With no log yet it exits 1 saying
// why. Mounting needs root (CAP_SYS_ADMIN): without it these tests are skipped, and say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, runUntilExit, startVoxlogd, tempDir } from '../lib/voxlogd.mjs';

function mountSmallDisk(t, megabytes) {
  const dir = tempDir('voxlog-disk-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  t.after(() => {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

// Writes a filler file until the disk refuses one more byte.
function fillDisk(dir) {
  const filler = join(dir, 'filler');
  const chunk = Buffer.alloc(64 << 10);
  let written = 0;
  for (;;) {
    try {
      writeFileSync(filler, chunk, { flag: 'a' });
      written += chunk.length;
    } catch (e) {
      if (e.code !== 'ENOSPC') throw e;
      break;
    }
  }
  // The last partial chunk: byte by byte, to the end.
  for (;;) {
    try { writeFileSync(filler, Buffer.alloc(512), { flag: 'a' }); } catch { break; }
  }
  return filler;
}

const status = (i, state = 'ringing') => new URLSearchParams({
  CallSid: 'CA' + String(i).padStart(32, '0'), CallStatus: state, SequenceNumber: state === 'ringing' ? '1' : '2', To: '+447911123456',
});

test('start-up on a full disk: reads served, writes 503 with Retry-After, healthz degraded; recovers by itself', async (t) => {
  const disk = mountSmallDisk(t, 16);
  if (!disk) return t.skip('cannot mount a tmpfs here (needs root)');
  const dataDir = join(disk, 'data');
  mkdirSync(dataDir);
  const vx = await startVoxlogd({ dataDir, keepDataDir: true });
  t.after(() => vx.stop().catch(() => {}));
  for (let i = 0; i < 20; i++) assert.equal((await vx.post('/api/calls/webhooks/status', status(i))).status, 200);
  await vx.stop({ removeData: false });

  const filler = fillDisk(disk);
  await vx.relaunch();  // on the full disk
  assert.equal((await vx.get('/healthz')).body.status, 'degraded', 'degraded from the start, before any write');
  assert.equal((await vx.get('/api/calls?limit=100')).body.data.length, 20, 'the log it has is served');
  let refused = 0;
  for (let i = 20; i < 220; i++) {
    const res = await vx.post('/api/calls/webhooks/status', status(i));
    assert.ok([200, 503].includes(res.status), `webhook ${i}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.status === 503) {
      refused++;
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
    }
  }
  assert.ok(refused > 0, 'the full disk refused writes');
  assert.equal((await vx.get('/healthz')).body.status, 'degraded');
  assert.equal((await vx.get('/api/calls?limit=500')).status, 200, 'reads go on');

  rmSync(filler);
  // Space is back: the next writes succeed, with no restart.
  await eventually(async () => (await vx.post('/api/calls/webhooks/status', status(1000))).status === 200, 20000, 'a write after space returned');
  await eventually(async () => (await vx.get('/healthz')).body.status === 'ok', 40000, 'healthz ok again (10 s after the last refusal)');
  await vx.stop({ removeData: false });
});

test('no log yet and a full disk: exits 1 naming the problem', async (t) => {
  const disk = mountSmallDisk(t, 4);
  if (!disk) return t.skip('cannot mount a tmpfs here (needs root)');
  mkdirSync(join(disk, 'data'));
  fillDisk(disk);
  const { code, signal, stderr } = await runUntilExit({ DATA_DIR: join(disk, 'data') });
  assert.equal(signal, null, `killed by ${signal}: ${stderr}`);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /no room on the disk|No space left on device/);
});
