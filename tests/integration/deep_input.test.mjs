// Issue 17: JSON from outside is depth-limited before it is parsed. A 100,000-deep webhook once overflowed
// voxlogd's stack when its event was written (MAX_BODY_BYTES raised to let it in); now every JSON entry
// point (webhooks, the API's JSON bodies, Socket.IO's CONNECT auth) answers it with a clear 400 and
// changes nothing, and a body nested as deep as the limit allows is still taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd } from '../lib/voxlogd.mjs';

const FN = 'FN' + 'c3'.repeat(16);
const CA = 'CA' + 'd4'.repeat(16);
const MAX_DEPTH = 64;

function nested(depth) {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

// A flow webhook whose `extra` parameter is `depth` arrays deep: the body is depth + 1 levels deep.
function deepWebhook(depth) {
  return `{"execution_sid":"${FN}","call_sid":"${CA}","event":"answered","extra":${nested(depth)}}`;
}

async function expectProblem(res, status, detail, what) {
  assert.equal(res.status, status, what);
  assert.match(res.headers.get('content-type'), /application\/problem\+json/, what);
  const problem = await res.json();
  assert.equal(problem.status, status, what);
  assert.match(problem.detail, detail, what);
}

test('a 100,000-deep JSON body gets a 400 on every JSON route, appends nothing, and the server keeps serving', async (t) => {
  const vx = await startVoxlogd({ env: { MAX_BODY_BYTES: String(1 << 20) } });
  t.after(() => vx.stop());
  const before = (await vx.get('/healthz')).body.lastSeq;

  const path = '/api/calls/webhooks/flow';
  const raw = deepWebhook(100000);
  assert.ok(raw.length > 200000, 'the body is larger than the default MAX_BODY_BYTES');
  const signed = vx.signWebhook(path, raw, 'application/json');  // signed: the depth alone is what is wrong
  const res = await fetch(vx.url + signed.path, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...signed.headers }, body: raw });
  await expectProblem(res, 400, /nested deeper than 64 levels/, 'the deep webhook');

  const deepObject = `{"to":"+447700900123","x":${nested(100000)}}`;
  for (const route of ['/api/calls/start', '/api/campaigns', '/api/lists', '/api/dnc', '/api/calls/start-bulk-from-list']) {
    const r = await fetch(vx.url + route, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: deepObject });
    await expectProblem(r, 400, /nested deeper than 64 levels/, route);
  }
  assert.equal((await vx.get('/healthz')).body.lastSeq, before, 'nothing was appended');

  // Socket.IO: a CONNECT whose auth is 100,000 deep is refused with a connect_error, the session lives on.
  const base = `${vx.url}/socket.io/?EIO=4&transport=polling`;
  const open = JSON.parse((await (await fetch(base)).text()).slice(1));
  const session = `${base}&sid=${open.sid}`;
  const posted = await fetch(session, { method: 'POST', body: `40{"token":${nested(100000)}}` });
  assert.equal(await posted.text(), 'ok');
  const answer = (await (await fetch(session)).text()).split('\x1e').filter((p) => p !== '2');
  assert.deepEqual(answer, ['44{"message":"the CONNECT auth must be a JSON object"}']);

  // As deep as the limit allows is still a webhook: stored and folded into the call.
  const deepest = await vx.post(path, JSON.parse(deepWebhook(MAX_DEPTH - 1)));
  assert.equal(deepest.status, 200);
  const tooDeep = await vx.post(path, JSON.parse(deepWebhook(MAX_DEPTH)));
  assert.equal(tooDeep.status, 400);
  const audit = await vx.get(`/api/calls/${FN}/events`);
  const received = audit.body.data.filter((e) => e.type === 'WebhookReceived');
  assert.equal(received.length, 1);
  assert.equal(JSON.stringify(received[0].data.params.extra), nested(MAX_DEPTH - 1));
});
