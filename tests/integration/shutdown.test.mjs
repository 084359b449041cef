// A clean stop under load: every webhook under way is answered (200 once durable, or 503 with
// Retry-After once the stop has begun), never dropped; voxlogd exits 0; every 200 is in the log; and the
// view equals the log right after the stop (`voxlog replay --check`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { io } from 'socket.io-client';
import { startVoxlogd, sleep } from '../lib/voxlogd.mjs';

const CLI = process.env.VOXLOG_CLI || new URL('../../build/tools/voxlog/voxlog', import.meta.url).pathname;
// The LD_PRELOAD library that makes every fdatasync/fsync/msync slow (slow_sync/slow_sync.c; ctest sets it).
const SLOW_SYNC = process.env.VOXLOG_SLOW_SYNC || new URL('../../build/tests/integration/libvoxlog_slow_sync.so', import.meta.url).pathname;

// One signed status callback on `agent`'s kept-alive connections; resolves to its status code and
// Retry-After, or to the socket error's code when the connection was dropped without an answer.
function deliver(vx, agent, i) {
  const params = new URLSearchParams({
    CallSid: 'CA' + String(i).padStart(32, '0'), CallStatus: 'ringing', SequenceNumber: '1', To: '+447911123456',
  });
  const path = '/api/calls/webhooks/status';
  const signed = vx.signWebhook(path, params.toString(), 'application/x-www-form-urlencoded');
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: vx.port, path: signed.path, method: 'POST', agent,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signed.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ i, status: res.statusCode, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', (e) => resolve({ i, status: e.code, fresh: !req.reusedSocket }));
    req.end(params.toString());
  });
}

test('SIGTERM under webhook load: every webhook answered, exit 0, 200s in the log, view equals the log', async () => {
  for (let round = 0; round < 3; round++) {
    const vx = await startVoxlogd({ keepDataDir: true });
    // 16 senders, each on a connection opened well before the stop, one webhook after another until
    // one is refused: so every request counted here was sent on a connection the server had accepted.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const results = [];
    const senders = Array.from({ length: 16 }, async (_, s) => {
      for (let n = 0; ; n++) {
        const r = await deliver(vx, agent, round * 1e6 + s * 1e4 + n);
        results.push(r);
        if (r.status !== 200) return;
      }
    });
    await sleep(300);
    await vx.stop({ removeData: false });  // rejects unless voxlogd exits 0
    await Promise.all(senders);
    agent.destroy();

    const accepted = results.filter((r) => r.status === 200);
    assert.ok(accepted.length > 16, 'webhooks were accepted before the stop');
    for (const r of results) {
      // 503 on a kept-alive connection once the stop began; ECONNREFUSED for a sender whose connection the
      // 503 closed and that reconnected after the port had closed. A reset would be a dropped request.
      assert.ok([200, 503, 'ECONNREFUSED'].includes(r.status), `webhook ${r.i}: ${r.status} (${results.filter((x) => x.status !== 200).map((x) => `${x.i}:${x.status}`).join(' ')})`);
      if (r.status === 503) assert.ok(Number(r.retryAfter) >= 1, 'a 503 carries Retry-After');
    }

    const events = spawnSync(CLI, ['--data', vx.dataDir, 'events', '--type', 'WebhookReceived'], { encoding: 'utf8' });
    assert.equal(events.status, 0, events.stderr);
    const logged = new Set(events.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).data.params.CallSid));
    for (const r of accepted) assert.ok(logged.has('CA' + String(r.i).padStart(32, '0')), `acknowledged webhook ${r.i} is in the log`);
    const check = spawnSync(CLI, ['--data', vx.dataDir, 'replay', '--check'], { encoding: 'utf8' });
    assert.equal(check.status, 0, `replay --check right after the stop: ${check.stdout}${check.stderr}`);
    spawnSync('rm', ['-rf', vx.dataDir]);
  }
});

// Asserts what a stop must leave: every answer a 200, a 503 with Retry-After, or a refused connection; every
// 200 in the log; the view equal to a replay of the log.
function assertStoppedCleanly(vx, results, what) {
  const accepted = results.filter((r) => r.status === 200);
  assert.ok(accepted.length > 8, `${what}: webhooks were accepted before the stop`);
  for (const r of results) {
    // A reset is allowed only on a connection opened during the stop (the agent replaces one a 503 closed):
    // it waited in the listen backlog when the port closed (README, Limitations). An accepted connection's
    // request is always answered.
    const backlogRace = r.status === 'ECONNRESET' && r.fresh;
    assert.ok([200, 503, 'ECONNREFUSED'].includes(r.status) || backlogRace, `${what}: webhook ${r.i}: ${r.status}${r.fresh ? ' (fresh connection)' : ''}`);
    if (r.status === 503) assert.ok(Number(r.retryAfter) >= 1, `${what}: a 503 carries Retry-After`);
  }
  const events = spawnSync(CLI, ['--data', vx.dataDir, 'events', '--type', 'WebhookReceived'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(events.status, 0, events.stderr);
  const logged = new Set(events.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).data.params.CallSid));
  for (const r of accepted) assert.ok(logged.has('CA' + String(r.i).padStart(32, '0')), `${what}: acknowledged webhook ${r.i} is in the log`);
  const check = spawnSync(CLI, ['--data', vx.dataDir, 'replay', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `${what}: replay --check right after the stop: ${check.stdout}${check.stderr}`);
}

// SIGTERM, then the exit: resolves to its code and how long it took; a stop that takes 30 s is a hang
// (the process is then killed), not slowness.
async function terminate(vx) {
  const started = Date.now();
  const exited = new Promise((resolve) => {
    if (vx.proc.exitCode !== null || vx.proc.signalCode !== null) resolve({ code: vx.proc.exitCode, signal: vx.proc.signalCode });
    vx.proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  vx.proc.kill('SIGTERM');
  const hung = sleep(30000).then(() => 'hung');
  const outcome = await Promise.race([exited, hung]);
  if (outcome === 'hung') {
    vx.proc.kill('SIGKILL');
    return { hung: true, output: vx.output() };
  }
  return { ...outcome, ms: Date.now() - started, output: vx.output() };
}

test('SIGTERM under webhook, /ws and Socket.IO load, with fast and slow disk flushes, many times: exit 0, nothing lost', async () => {
  const stops = [];
  for (let round = 0; round < 8; round++) {
    const slow = round % 2 === 1;  // every other round: each flush takes 5-30 ms more
    const env = slow ? { LD_PRELOAD: SLOW_SYNC, VOXLOG_SLOW_SYNC_MS: '5-30' } : {};
    const vx = await startVoxlogd({ keepDataDir: true, env });
    const what = `round ${round} (${slow ? 'slow' : 'fast'} flushes)`;
    const subscribers = Array.from({ length: 4 }, () => vx.ws('/ws'));
    await Promise.all(subscribers.map((s) => s.opened));
    const sockets = Array.from({ length: 4 }, () => io(vx.url, { reconnection: false, transports: ['websocket'] }));
    await Promise.all(sockets.map((s) => new Promise((resolve, reject) => { s.once('connect', resolve); s.once('connect_error', reject); })));
    const disconnected = sockets.map((s) => new Promise((resolve) => s.once('disconnect', resolve)));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const results = [];
    const senders = Array.from({ length: 8 }, async (_, s) => {
      for (let n = 0; ; n++) {
        const r = await deliver(vx, agent, round * 1e6 + s * 1e4 + n);
        results.push(r);
        if (r.status !== 200) return;
      }
    });
    await sleep(200 + Math.floor(Math.random() * 400));  // a different moment each round
    const stop = await terminate(vx);
    assert.ok(!stop.hung, `${what}: voxlogd did not exit within 30 s of SIGTERM:\n${stop.output}`);
    assert.equal(stop.code, 0, `${what}: exit ${stop.code} signal ${stop.signal}:\n${stop.output}`);
    stops.push(stop.ms);
    await Promise.all(senders);
    agent.destroy();
    // Live subscribers were told the server is going away, not cut off.
    for (const s of subscribers) {
      await s.waitFor((_, closed) => closed, 10000, 'the close');
      assert.equal(s.closed.code, 1001, `${what}: /ws close ${JSON.stringify(s.closed)}`);
      const seqs = s.messages.map((m) => m.seq).filter((x) => x !== undefined);
      for (let k = 1; k < seqs.length; k++) assert.ok(seqs[k] > seqs[k - 1], `${what}: /ws events in order, once`);
    }
    await Promise.all(disconnected);
    assertStoppedCleanly(vx, results, what);
    spawnSync('rm', ['-rf', vx.dataDir]);
  }
  console.log(`stops (SIGTERM to exit, ms): ${stops.join(' ')}`);
});
