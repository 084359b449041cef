// Issue 17 item 3: under steady signed-webhook load voxlogd is killed with SIGKILL at random moments and
// started again on the same data. Every webhook that got a 200 is in the log exactly once, nothing is
// stored twice, `voxlog verify` passes, the view equals a fresh replay, and a /ws client and a Socket.IO
// client that resume with the last seq they saw miss nothing and get nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startVoxlogd, sleep, eventually, WEBHOOK_TOKEN } from '../lib/voxlogd.mjs';
import { startTwilioSim } from '../lib/twilio_sim.mjs';

const CLI = process.env.VOXLOG_CLI || new URL('../../build/tools/voxlog/voxlog', import.meta.url).pathname;
const sid = (i) => 'CA' + String(i).padStart(32, '0');

function deliver(vx, agent, i) {
  const body = new URLSearchParams({ CallSid: sid(i), CallStatus: 'ringing', SequenceNumber: '1', To: '+447911123456' }).toString();
  const path = '/api/calls/webhooks/status';
  const signed = vx.signWebhook(path, body, 'application/x-www-form-urlencoded');
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: vx.port, path: signed.path, method: 'POST', agent,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...signed.headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));  // the crash: no answer, so not acknowledged
    req.end(body);
  });
}

// Every event of the log, page by page.
async function logEvents(vx, lastSeq) {
  const all = [];
  for (let after = 0; after < lastSeq;) {
    const page = (await vx.get(`/api/events?after=${after}&limit=1000`)).body.events;
    all.push(...page);
    after = page.at(-1).seq;
  }
  return all;
}

// A /ws subscriber that keeps every seq it gets and, after each drop, resumes after the last one.
class Follower {
  constructor(vx) {
    this.vx = vx;
    this.seqs = [];
  }
  connect() {
    const after = this.seqs.length ? this.seqs.at(-1) : 0;
    this.socket = new WebSocket(`${this.vx.url.replace('http', 'ws')}/ws?after=${after}`);
    this.socket.on('message', (data) => this.seqs.push(JSON.parse(data.toString()).seq));
    this.socket.on('error', () => {});
    return new Promise((resolve) => this.socket.once('open', resolve));
  }
}

// A Socket.IO client (the official one) that keeps the offset of every statusUpdate and, after each drop,
// resumes after the last one, as socket.io-client's connection-state recovery does.
class SocketIoFollower {
  constructor(vx) {
    this.vx = vx;
    this.offsets = [];
  }
  async connect() {
    const auth = this.offsets.length ? { offset: String(this.offsets.at(-1)) } : {};
    this.socket = io(this.vx.url, { reconnection: false, transports: ['websocket'], auth });
    this.socket.on('statusUpdate', (_payload, offset) => this.offsets.push(Number(offset)));
    await new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
    });
  }
}

test('SIGKILL under webhook load, five times: nothing acknowledged is lost, nothing is stored twice', async () => {
  const vx = await startVoxlogd({ keepDataDir: true });
  const acknowledged = new Set();
  const unanswered = [];  // lost in a crash: committed or not, nobody knows; Twilio would deliver them again
  const follower = new Follower(vx);
  const sioFollower = new SocketIoFollower(vx);
  let next = 0;
  try {
    for (let round = 0; round < 5; round++) {
      await follower.connect();
      await sioFollower.connect();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      let running = true;
      const senders = Array.from({ length: 16 }, async () => {
        while (running) {
          const i = next++;
          const status = await deliver(vx, agent, i);
          if (status === 200) acknowledged.add(i);
          else unanswered.push(i);
        }
      });
      await sleep(150 + Math.floor(Math.random() * 450));
      await vx.crash();
      running = false;
      await Promise.all(senders);
      agent.destroy();
      await vx.relaunch();
    }
    assert.ok(acknowledged.size > 100, `webhooks were acknowledged (${acknowledged.size})`);
    // Delivered again, as Twilio retries: each is taken once, whether the crash had committed it or not.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    for (const i of unanswered) assert.equal(await deliver(vx, agent, i), 200, `redelivery of ${i}`);
    agent.destroy();
    await follower.connect();
    await sioFollower.connect();
    const lastSeq = (await vx.get('/healthz')).body.lastSeq;
    await eventually(() => follower.seqs.at(-1) === lastSeq, 20000, 'the follower to catch up');
    assert.deepEqual(follower.seqs, Array.from({ length: lastSeq }, (_, k) => k + 1), 'every seq once, in order');
    follower.socket.close();
    const lastChange = (await logEvents(vx, lastSeq)).filter((e) => e.type === 'CallStatusChanged').at(-1).seq;
    await eventually(() => sioFollower.offsets.at(-1) === lastChange, 20000, 'the Socket.IO follower to catch up');
    sioFollower.socket.close();
  } finally {
    await vx.stop({ removeData: false });
  }

  const verify = spawnSync(CLI, ['--data', vx.dataDir, 'verify'], { encoding: 'utf8' });
  assert.equal(verify.status, 0, `voxlog verify: ${verify.stdout}${verify.stderr}`);
  const check = spawnSync(CLI, ['--data', vx.dataDir, 'replay', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `replay --check: ${check.stdout}${check.stderr}`);
  const events = spawnSync(CLI, ['--data', vx.dataDir, 'events', '--type', 'WebhookReceived'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(events.status, 0, events.stderr);
  const stored = new Map();
  for (const line of events.stdout.split('\n').filter(Boolean)) {
    const callSid = JSON.parse(line).data.params.CallSid;
    stored.set(callSid, (stored.get(callSid) ?? 0) + 1);
  }
  for (const [callSid, n] of stored) assert.equal(n, 1, `${callSid} stored ${n} times`);
  const statusChanges = spawnSync(CLI, ['--data', vx.dataDir, 'events', '--type', 'CallStatusChanged'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const changeSeqs = statusChanges.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l).seq);
  assert.deepEqual(sioFollower.offsets, changeSeqs, 'the Socket.IO follower got every statusUpdate once, in order');
  for (const i of [...acknowledged, ...unanswered]) assert.ok(stored.has(sid(i)), `webhook ${i} is in the log`);
  spawnSync('rm', ['-rf', vx.dataDir]);
});

// Twilio as a separate voxlog-sim process, which outlives every crash of voxlogd: its record of executions
// is the witness of what was dialled. It signs its webhooks with the token the test harness signs with.
async function startTwilio(t) {
  const sim = await startTwilioSim({ token: WEBHOOK_TOKEN });
  t.after(() => sim.stop());
  return sim;
}

test('SIGKILL at random moments under webhook load while a campaign runs: the campaign completes, nobody is dialled twice', async (t) => {
  const twilio = await startTwilio(t);
  const vx = await startVoxlogd({
    keepDataDir: true,
    env: { TWILIO_ACCOUNT_SID: twilio.account, TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN, TWILIO_FLOW_SID: twilio.flowSid,
      TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE: twilio.url, TWILIO_CPS: '5', CAMPAIGN_CHECK_MS: '300' },
  });
  const phones = Array.from({ length: 24 }, (_, i) => `+4479111${String(31000 + i)}`);
  const created = await vx.post('/api/campaigns', { name: 'crashes', cps: 5, contacts: phones.map((phone) => ({ phone })) });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.id;
  const acknowledged = new Set();
  const unanswered = [];
  const statesAtCrash = [];
  let next = 5e6;
  try {
    for (let round = 0; round < 4; round++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
      let running = true;
      const senders = Array.from({ length: 8 }, async () => {
        while (running) {
          const i = next++;
          const status = await deliver(vx, agent, i);
          if (status === 200) acknowledged.add(i);
          else unanswered.push(i);
        }
      });
      await sleep(300 + Math.floor(Math.random() * 900));
      statesAtCrash.push((await vx.get(`/api/campaigns/${id}`)).body.data.state);
      await vx.crash();
      running = false;
      await Promise.all(senders);
      agent.destroy();
      await vx.relaunch();
    }
    assert.ok(statesAtCrash.includes('running'), `killed while the campaign ran: ${statesAtCrash.join(' ')}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    for (const i of unanswered) assert.equal(await deliver(vx, agent, i), 200, `redelivery of ${i}`);
    agent.destroy();
    const done = await eventually(async () => {
      const c = (await vx.get(`/api/campaigns/${id}`)).body.data;
      return c.state === 'completed' ? c : null;
    }, 90000, 'the campaign to complete after the crashes');
    const finals = ['confirmed', 'cancelled', 'voicemail', 'opted_out', 'no_outcome', 'unreachable'].reduce((n, k) => n + (done.counts[k] ?? 0), 0);
    assert.equal(finals, phones.length, JSON.stringify(done.counts));
  } finally {
    await vx.stop({ removeData: false });
  }
  const attempts = (await twilio.executions()).map((e) => `${e.to}#${e.parameters.attempt}`);
  assert.equal(new Set(attempts).size, attempts.length, `dialled twice for one attempt: ${attempts.sort().join(' ')}`);
  for (const phone of phones) assert.ok(attempts.includes(`${phone}#1`), `${phone} was called`);
  assert.ok(acknowledged.size > 50, `webhooks were acknowledged (${acknowledged.size})`);
  const verify = spawnSync(CLI, ['--data', vx.dataDir, 'verify'], { encoding: 'utf8' });
  assert.equal(verify.status, 0, `voxlog verify: ${verify.stdout}${verify.stderr}`);
  const check = spawnSync(CLI, ['--data', vx.dataDir, 'replay', '--check'], { encoding: 'utf8' });
  assert.equal(check.status, 0, `replay --check: ${check.stdout}${check.stderr}`);
  const events = spawnSync(CLI, ['--data', vx.dataDir, 'events', '--type', 'WebhookReceived'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const stored = new Map();
  for (const line of events.stdout.split('\n').filter(Boolean)) {
    const callSid = JSON.parse(line).data.params.CallSid;
    stored.set(callSid, (stored.get(callSid) ?? 0) + 1);
  }
  for (const i of [...acknowledged, ...unanswered]) assert.equal(stored.get(sid(i)), 1, `webhook ${i} is in the log once`);
  spawnSync('rm', ['-rf', vx.dataDir]);
});
