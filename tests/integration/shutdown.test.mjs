// A clean stop under load: every webhook under way is answered (200 once durable, or 503 with
// Retry-After once the stop has begun), never dropped; voxlogd exits 0; every 200 is in the log; and the
// view equals the log right after the stop (`voxlog replay --check`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { startVoxlogd, sleep } from '../lib/voxlogd.mjs';

const CLI = process.env.VOXLOG_CLI || new URL('../../build/tools/voxlog/voxlog', import.meta.url).pathname;

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
    req.on('error', (e) => resolve({ i, status: e.code }));
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
