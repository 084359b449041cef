// Issue 20 items 3-5: three voxlogd nodes on one PostgreSQL log, a primary and a synchronous standby
// started by tools/cluster/pg-cluster in a temporary directory on loopback ports. Twilio is a separate
// voxlog-sim; Twilio's webhooks reach the nodes through a round-robin load balancer in this process (the
// nodes' PUBLIC_URL), and the test's own webhooks go to every node directly.
//
// One story, checked as it goes: webhooks on every node, two of one call at two nodes at once; a campaign
// created on one node runs on the leader only, is paused and resumed from the others; the leader is killed
// and another node takes the campaign over; the primary crashes and the standby is promoted while webhooks
// flow (503 + Retry-After during the switch, never a false 200). Then every acknowledged webhook is in the log
// exactly once, `voxlog verify` passes on the SQL log, every node's view equals a replay, nobody was dialled
// twice for one attempt, a /ws client of the killed node resumed on another node missing nothing, and the
// killed node, started again, caught up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
import { startVoxlogd, sleep, eventually, tempDir, WEBHOOK_TOKEN } from '../lib/voxlogd.mjs';
import { startTwilioSim } from '../lib/twilio_sim.mjs';

const CLI = process.env.VOXLOG_CLI || new URL('../../build/tools/voxlog/voxlog', import.meta.url).pathname;
const PG_CLUSTER = new URL('../../tools/cluster/pg-cluster', import.meta.url).pathname;
const PG_BIN = (() => {
  if (process.env.VOXLOG_PG_BIN) return process.env.VOXLOG_PG_BIN;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  const bin = versions.length ? `/usr/lib/postgresql/${versions.at(-1)}/bin` : '';
  return bin && existsSync(`${bin}/initdb`) ? bin : '';
})();
const asRoot = process.getuid() === 0;  // PostgreSQL refuses root: the cluster then runs as `postgres`

// Runs `pg-cluster cmd dir` (as postgres when we are root).
function runPgCluster(cmd, dir, port) {
  const args = ['env', `PORT=${port}`, `PG_BIN=${PG_BIN}`, PG_CLUSTER, cmd, dir];
  return asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' })
    : spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
}
function pgCluster(cmd, dir, port) {
  const r = runPgCluster(cmd, dir, port);
  assert.equal(r.status, 0, `pg-cluster ${cmd}: ${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

// Two consecutive free loopback ports (the primary's and the standby's).
async function freePortPair() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    });
    const next = await new Promise((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65000) return port;
  }
}

// Stops the primary in immediate mode: every backend is killed, no shutdown checkpoint, clients cut off, as
// in a crash. (A SIGKILL of the postmaster leaves a zombie where nothing reaps orphans, as in containers,
// and pg_ctl would go on reporting it running.)
function crashPrimary(dir) {
  const args = [`${PG_BIN}/pg_ctl`, '-D', `${dir}/node1`, '-m', 'immediate', '-w', 'stop'];
  const r = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' })
    : spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `pg_ctl stop -m immediate: ${r.stdout}${r.stderr}`);
}

// Twilio's side of the load balancer: each request to the next node that answers.
function startBalancer(nodes) {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tryNode = (left) => {
        const live = nodes.filter((n) => n.alive);
        if (!live.length || left === 0) { res.writeHead(502); res.end(); return; }
        const node = live[next++ % live.length];
        const out = http.request({ host: '127.0.0.1', port: node.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        });
        out.on('error', () => tryNode(left - 1));
        out.end(body);
      };
      tryNode(3);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const sid = (i) => 'CA' + String(i).padStart(32, '0');

// A signed status webhook for call i to one node: its HTTP status and Retry-After.
function deliver(node, agent, i, sequence = 1, status = 'ringing') {
  const body = new URLSearchParams({ CallSid: sid(i), CallStatus: status, SequenceNumber: String(sequence), To: '+447911123456' }).toString();
  const path = '/api/calls/webhooks/status';
  const signed = node.vx.signWebhook(path, body, 'application/x-www-form-urlencoded');
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: node.port, path: signed.path, method: 'POST', agent,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signed.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', () => resolve({ status: 0 }));  // a killed node: no answer, so not acknowledged
    req.end(body);
  });
}

// Webhook load on every live node until stopped; each result is kept with its call.
function loadOn(nodes, results, firstCall) {
  let running = true;
  let n = firstCall;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 12 });
  const senders = Array.from({ length: 6 }, async (_, k) => {
    while (running) {
      const live = nodes.filter((x) => x.alive);
      const i = n++;
      const r = await deliver(live[k % live.length], agent, i);
      results.push({ i, sequence: 1, status: r.status, retryAfter: r.retryAfter });
      if (r.status !== 200) await sleep(20);
    }
  });
  return async () => { running = false; await Promise.all(senders); agent.destroy(); };
}

async function logEvents(vx) {
  const all = [];
  for (;;) {
    const page = (await vx.get(`/api/events?after=${all.length ? all.at(-1).seq : 0}&limit=1000`)).body.events;
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

const leaderOf = async (nodes) => {
  const leaders = [];
  for (const n of nodes.filter((x) => x.alive))
    if ((await n.vx.get('/healthz')).body.campaigns?.leader) leaders.push(n);
  return leaders.length === 1 ? leaders[0] : null;
};

test('three nodes on a PostgreSQL primary and synchronous standby: node and primary killed under load, nothing acknowledged lost', {
  skip: PG_BIN ? false : 'no PostgreSQL server binaries (postgresql-15)',
}, async (t) => {
  const dir = tempDir('voxlog-cluster-');
  chmodSync(dir, 0o777);  // the cluster's owner (postgres, when we are root) writes inside
  const pgDir = `${dir}/pg`;
  const port = await freePortPair();
  pgCluster('start', pgDir, port);
  // Undone in reverse order, whatever happens: nodes (killed, no waiting on a log that may be gone), the
  // simulator, the balancer, the database.
  const cleanup = [() => { runPgCluster('stop', pgDir, port); rmSync(dir, { recursive: true, force: true }); }];
  t.after(async () => { for (const undo of cleanup.reverse()) await undo(); });
  const logUrl = pgCluster('url', pgDir, port);

  const twilio = await startTwilioSim({ token: WEBHOOK_TOKEN });
  cleanup.push(() => twilio.stop());
  const nodes = [];
  const balancer = await startBalancer(nodes);
  cleanup.push(() => balancer.close());
  const publicUrl = `http://127.0.0.1:${balancer.address().port}`;
  const env = {
    LOG_URL: logUrl, PUBLIC_URL: publicUrl, TWILIO_ACCOUNT_SID: twilio.account, TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN,
    TWILIO_FLOW_SID: twilio.flowSid, TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE: twilio.url,
    TWILIO_CPS: '5', CAMPAIGN_CHECK_MS: '300',
  };
  for (let k = 0; k < 3; k++) {
    const vx = await startVoxlogd({ env, keepDataDir: true });
    nodes.push({ vx, port: vx.port, alive: true, name: `node${k + 1}` });
  }
  cleanup.push(async () => {
    for (const n of nodes) {
      if (n.alive) await n.vx.crash();
      rmSync(n.vx.dataDir, { recursive: true, force: true });
    }
  });
  const results = [];

  // 1. One leader; webhooks on every node; two webhooks of one call at two nodes at once, 40 times.
  const first = await eventually(() => leaderOf(nodes), 10000, 'one node to lead the campaigns');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  for (let i = 0; i < 40; i++) {
    const [a, b] = await Promise.all([deliver(nodes[i % 3], agent, 9e6 + i, 1, 'ringing'), deliver(nodes[(i + 1) % 3], agent, 9e6 + i, 2, 'in-progress')]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    results.push({ i: 9e6 + i, sequence: 1, callStatus: 'ringing', ...a }, { i: 9e6 + i, sequence: 2, callStatus: 'in-progress', ...b });
  }
  agent.destroy();

  // 2. A /ws follower on the leader, which will be killed.
  const seen = [];
  const follow = (node) => {
    const socket = new WebSocket(`${node.vx.url.replace('http', 'ws')}/ws?after=${seen.length ? seen.at(-1) : 0}`);
    socket.on('message', (data) => seen.push(JSON.parse(data.toString()).seq));
    socket.on('error', () => {});
    return socket;
  };
  let follower = follow(first);

  // 3. A campaign created on a node that does not lead; paused on another; resumed on the third.
  const others = nodes.filter((n) => n !== first);
  const phones = Array.from({ length: 20 }, (_, i) => `+4479111${String(41000 + i)}`);
  const created = await others[0].vx.post('/api/campaigns', { name: 'cluster', cps: 4, contacts: phones.map((phone) => ({ phone })) });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.id;
  await eventually(async () => (await twilio.executions()).length >= 2, 20000, 'the leader to dial the new campaign');
  const paused = await others[1].vx.post(`/api/campaigns/${id}/pause`, {});
  assert.equal(paused.status, 200, JSON.stringify(paused.body));
  await sleep(1500);
  const dialledWhilePaused = (await twilio.executions()).length;
  await sleep(1500);
  assert.equal((await twilio.executions()).length, dialledWhilePaused, 'nothing dialled while paused');
  const resumed = await others[0].vx.post(`/api/campaigns/${id}/resume`, {});
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  await eventually(async () => (await twilio.executions()).length > dialledWhilePaused + 2, 20000, 'dialling to go on');

  // 4. Kill the leader under webhook load: another node takes the campaign over within seconds.
  let stopLoad = loadOn(nodes, results, 1e6);
  await sleep(500);
  assert.equal((await leaderOf(nodes))?.name, first.name, 'the first leader still leads');
  const t0 = Date.now();
  await first.vx.crash();
  t.diagnostic(`crash took ${Date.now() - t0} ms`);
  first.alive = false;
  follower.terminate();
  const killedAt = Date.now();
  const second = await eventually(() => leaderOf(nodes), 15000, 'a surviving node to take the campaigns over');
  const takeover = Date.now() - killedAt;
  t.diagnostic(`campaigns taken over by ${second.name} ${takeover} ms after the leader was killed`);
  follower = follow(second);
  await stopLoad();

  // 5. Kill the primary while webhooks flow; promote the standby.
  stopLoad = loadOn(nodes, results, 2e6);
  await sleep(700);
  crashPrimary(pgDir);
  await sleep(1500);
  pgCluster('promote', pgDir, port);
  await eventually(async () => results.slice(-6).every((r) => r.status === 200) && results.at(-1).i > 2e6, 30000, 'webhooks to be taken again after the failover');
  await sleep(500);
  await stopLoad();

  const done = await eventually(async () => {
    const c = (await second.vx.get(`/api/campaigns/${id}`)).body.data;
    return c.state === 'completed' ? c : null;
  }, 120000, 'the campaign to complete on the surviving nodes');
  const finals = ['confirmed', 'cancelled', 'voicemail', 'opted_out', 'no_outcome', 'unreachable'].reduce((n, k) => n + (done.counts[k] ?? 0), 0);
  assert.equal(finals, phones.length, JSON.stringify(done.counts));

  // Every answer was a 200, a 503 with Retry-After, or none (the killed node); never anything else.
  for (const r of results) {
    assert.ok([0, 200, 503].includes(r.status), `webhook ${r.i}: ${r.status}`);
    if (r.status === 503) assert.ok(r.retryAfter, `webhook ${r.i}: 503 without Retry-After`);
  }
  const failedOver = results.filter((r) => r.i >= 2e6);
  assert.ok(failedOver.some((r) => r.status === 503), 'the switch was seen (some 503)');
  // Twilio delivers the unanswered ones again, to a live node: each is taken once.
  const again = new http.Agent({ keepAlive: true, maxSockets: 4 });
  for (const r of results.filter((x) => x.status !== 200)) {
    const d = await deliver(second, again, r.i, r.sequence, r.callStatus);
    assert.equal(d.status, 200, `redelivery of ${r.i}`);
  }
  again.destroy();

  // Every acknowledged webhook is in the log exactly once; two of one call are two versions of its stream.
  const lastSeq = (await second.vx.get('/healthz')).body.lastSeq;
  const events = await logEvents(second.vx);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: lastSeq }, (_, k) => k + 1), 'the log is dense');
  const stored = new Map();
  for (const e of events.filter((x) => x.type === 'WebhookReceived')) {
    const key = `${e.data.params.CallSid}#${e.data.params.SequenceNumber}`;
    stored.set(key, (stored.get(key) ?? 0) + 1);
  }
  for (const r of results) assert.equal(stored.get(`${sid(r.i)}#${r.sequence}`), 1, `webhook ${r.i}#${r.sequence} is in the log once`);
  for (let i = 0; i < 40; i++) {
    const call = events.filter((e) => e.type === 'WebhookReceived' && e.data.params.CallSid === sid(9e6 + i));
    assert.equal(call.length, 2, `both webhooks of call ${i}`);
  }
  // Nobody dialled twice for one attempt, across the takeover and the failover.
  const attempts = (await twilio.executions()).map((e) => `${e.to}#${e.parameters.attempt}`);
  assert.equal(new Set(attempts).size, attempts.length, `dialled twice for one attempt: ${attempts.sort().join(' ')}`);
  // The campaign's stream: nothing queued between a pause and its resume.
  const stream = events.filter((e) => e.stream === `campaign-${id}`).map((e) => e.type);
  const pausedAt = stream.indexOf('CampaignPaused');
  const resumedAt = stream.indexOf('CampaignResumed');
  assert.ok(pausedAt >= 0 && resumedAt > pausedAt, stream.join(' '));
  assert.ok(!stream.slice(pausedAt, resumedAt).includes('CallQueued'), 'nothing queued while paused');

  // The follower of the killed node resumed on another with its last seq: every seq once, in order.
  await eventually(() => seen.at(-1) === lastSeq, 20000, 'the resumed /ws follower to catch up');
  follower.terminate();
  assert.deepEqual(seen, Array.from({ length: lastSeq }, (_, k) => k + 1), 'every seq once, in order, across the move');

  // The killed node comes back on its own data: its view catches up with what the others wrote meanwhile.
  await first.vx.relaunch();
  first.alive = true;

  // verify on the SQL log; every node's view equals a replay of it.
  const cliEnv = { ...process.env, LOG_URL: logUrl };
  const verify = spawnSync(CLI, ['verify'], { encoding: 'utf8', env: cliEnv });
  assert.equal(verify.status, 0, `voxlog verify: ${verify.stdout}${verify.stderr}`);
  assert.ok(!`${verify.stdout}${verify.stderr}`.includes(logUrl.split(':')[2].split('@')[0]), 'no password printed');
  for (const n of nodes.filter((x) => x.alive)) {
    await n.vx.settled();
    await n.vx.stop({ removeData: false });
    n.alive = false;
    const check = spawnSync(CLI, ['--data', n.vx.dataDir, 'replay', '--check'], { encoding: 'utf8', env: cliEnv });
    assert.equal(check.status, 0, `${n.name}: replay --check: ${check.stdout}${check.stderr}`);
    rmSync(n.vx.dataDir, { recursive: true, force: true });
  }
});
