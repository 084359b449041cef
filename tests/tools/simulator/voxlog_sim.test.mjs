// voxlog-sim as a program, checked with the official `twilio` npm package: every webhook it sends must pass
// twilio.validateRequestWithBody, the check Twilio's own SDK applies to real Studio requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const twilio = require('../../node_modules/twilio');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const simBinary = process.env.VOXLOG_SIM;
const token = 'node-check-token-42';
const account = 'AC' + 'ab'.repeat(16);

function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const url = `http://127.0.0.1:${server.address().port}${req.url}`;
      received.push({ url, body, signature: req.headers['x-twilio-signature'] });
      res.end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, received })));
}

function startSimulator() {
  const child = spawn(simBinary, ['--port', '0', '--account-sid', account, '--auth-token', token,
    '--flow', path.join(root, 'flow.json'), '--time-scale', '0.002', '--seed', '9'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+) \(flow (FW[0-9a-f]{32})\)/);
      if (match) resolve({ child, baseUrl: match[1], flowSid: match[2] });
    });
    child.on('exit', (code) => reject(new Error(`voxlog-sim exited with ${code}: ${out}`)));
  });
}

const auth = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');

async function createExecution(sim, to, publicUrl) {
  const res = await fetch(`${sim.baseUrl}/v2/Flows/${sim.flowSid}/Executions`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: to, From: '+441234567890', Parameters: JSON.stringify({ public_url: publicUrl }) }),
  });
  assert.equal(res.status, 201);
  return (await res.json()).sid;
}

async function waitEnded(sim, sid) {
  for (let i = 0; i < 2000; i++) {  // a hang guard, not a speed check
    const res = await fetch(`${sim.baseUrl}/v2/Flows/${sim.flowSid}/Executions/${sid}`, { headers: { Authorization: auth } });
    if ((await res.json()).status === 'ended') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${sid} never ended`);
}

test('every webhook voxlog-sim sends passes twilio.validateRequestWithBody', async () => {
  assert.ok(simBinary, 'VOXLOG_SIM must name the voxlog-sim binary');
  const { server, received } = await startReceiver();
  const sim = await startSimulator();
  try {
    const publicUrl = `http://127.0.0.1:${server.address().port}`;
    const scripted = await fetch(`${sim.baseUrl}/__sim/script`, {
      method: 'POST', body: JSON.stringify({ to: '+447700900900', answer: 'human', digits: '0' }),
    });
    assert.equal(scripted.status, 200);
    const sids = [await createExecution(sim, '+447700900900', publicUrl)];
    for (let i = 0; i < 12; i++) sids.push(await createExecution(sim, `+4477009009${10 + i}`, publicUrl));
    for (const sid of sids) await waitEnded(sim, sid);

    const events = received.map((r) => JSON.parse(r.body).event);
    assert.ok(events.includes('voicemail_recorded'), `events: ${events}`);
    assert.ok(received.length >= sids.length);
    for (const r of received) {
      assert.ok(twilio.validateRequestWithBody(token, r.signature, r.url, r.body), `signature of ${r.url}`);
      assert.ok(!twilio.validateRequestWithBody('other-token', r.signature, r.url, r.body));
      assert.ok(!twilio.validateRequestWithBody(token, r.signature, r.url, r.body + ' '));
    }
  } finally {
    sim.child.kill('SIGTERM');
    server.close();
  }
});
