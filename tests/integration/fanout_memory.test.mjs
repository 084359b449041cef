// Issue 17.7: live subscribers cost bounded memory. 1,000 /ws subscribers, 100 of which never read, get
// 100 signed webhooks/s for 60 s (FANOUT_TEST_SECONDS overrides, for a quick local run): every reader gets
// every webhook, every stalled one is closed with 4000 (found when it finally reads), and voxlogd's RSS
// stays under the bound README.md states. The subscribers are tools/bench/ws_latency's (one epoll thread:
// 1,000 Node WebSockets would cost the 2-core CI machine more than the server does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startVoxlogd, WEBHOOK_TOKEN } from '../lib/voxlogd.mjs';

const WS_LATENCY = process.env.VOXLOG_WS_LATENCY;
const SECONDS = process.env.FANOUT_TEST_SECONDS || '60';
const RSS_BOUND_KB = 256 * 1024;  // README.md, "Key figures": voxlogd's RSS under this load

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    proc.on('error', reject);
    proc.on('exit', (code) => resolve({ code, out }));
  });
}

test('1,000 subscribers, 100 stalled: readers get everything, stalled ones get 4000, memory stays bounded', { skip: !WS_LATENCY && 'VOXLOG_WS_LATENCY not set' }, async (t) => {
  // The heartbeat would close the stalled clients as dead (1001) after a minute of silence: this test is
  // about the queue bound, so it is out of the way. The connection cap is above the subscribers.
  const vx = await startVoxlogd({ env: { WS_PING_MS: '600000', MAX_CONNECTIONS: '2000' } });
  t.after(() => vx.stop());
  const { code, out } = await run(
    WS_LATENCY,
    ['--port', String(vx.port), '--subscribers', '900', '--stalled', '100', '--rate', '100', '--seconds', SECONDS,
      '--warmup', '0', '--server-pid', String(vx.proc.pid)],
    { TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN });
  const line = /WSLAT (.*)/.exec(out);
  assert.ok(line, `ws_latency printed no result (exit ${code}):\n${out}`);
  const r = Object.fromEntries(line[1].split(' ').map((kv) => kv.split('=')));
  t.diagnostic(line[0]);
  assert.equal(r.missing, '0', 'every reader got every webhook');
  assert.equal(r.non2xx, '0', 'every webhook was accepted');
  assert.equal(r.stalled_4000, '100', 'every stalled subscriber was closed with 4000');
  assert.ok(Number(r.rss_max_kb) < RSS_BOUND_KB, `RSS ${r.rss_max_kb} KiB stays under ${RSS_BOUND_KB} KiB`);
  assert.equal(code, 0, out);
  const metrics = (await vx.get('/metrics')).body;
  assert.match(metrics, /voxlog_slow_subscribers_closed_total 100\b/);
});
