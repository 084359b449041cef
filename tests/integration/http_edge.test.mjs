// The HTTP edge over raw TCP: every malformed or oversized request gets a status (400/413/414/431, as
// problem+json) instead of a silent close, directories are 404, pipelined requests are all answered in
// order, and the server keeps serving after each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { eventually, startVoxlogd } from '../lib/voxlogd.mjs';

// Sends `data` on a fresh connection and collects every response until the server closes (or `idleMs`
// after the last byte, for a kept-alive connection). Resolves to the parsed responses, in order.
function exchange(port, data, { idleMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let idle;
    const finish = () => {
      clearTimeout(idle);
      socket.destroy();
      resolve(parseResponses(Buffer.concat(chunks)));
    };
    const arm = () => { clearTimeout(idle); idle = setTimeout(finish, idleMs); };
    socket.on('data', (d) => { chunks.push(d); arm(); });
    socket.on('close', finish);
    // The server may answer (413) and stop reading while a big body is still being written: not an error.
    socket.on('error', (e) => (['EPIPE', 'ECONNRESET'].includes(e.code) ? finish() : reject(e)));
    socket.on('connect', () => { socket.write(data); arm(); });
  });
}

function parseResponses(buffer) {
  const responses = [];
  let text = buffer.toString('latin1');
  while (text.length) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    const body = text.slice(end + 4, end + 4 + length);
    responses.push({ status: Number(statusLine.split(' ')[1]), statusLine, headers, body });
    text = text.slice(end + 4 + length);
  }
  return responses;
}

const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

async function assertRefused(port, data, status, what) {
  const responses = await exchange(port, data);
  assert.equal(responses.length, 1, `${what}: one answer, not a silent close`);
  assert.equal(responses[0].status, status, `${what}: ${responses[0].statusLine} ${responses[0].body}`);
  assert.match(responses[0].headers['content-type'], /application\/problem\+json/, what);
  assert.equal(JSON.parse(responses[0].body).status, status, what);
}

async function assertServing(vx) {
  const [health] = await exchange(vx.port, get('/healthz', 'Connection: close\r\n'));
  assert.equal(health.status, 200, 'the server still serves');
}

test('malformed requests get 400, with problem details', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  await assertRefused(vx.port, 'HELLO\r\n\r\n', 400, 'not HTTP');
  await assertRefused(vx.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n', 400, 'a bad Content-Length');
  await assertRefused(vx.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'a bad chunk');
  await assertRefused(vx.port, get('/api/calls/%zz'), 400, 'a bad escape in the path');
  await assertRefused(vx.port, get('/index%2'), 400, 'a truncated escape');
  await assertServing(vx);
});

test('oversized requests get 413, 414 and 431', async (t) => {
  const vx = await startVoxlogd({ env: { MAX_IMPORT_BYTES: String(4 << 20) } });
  t.after(() => vx.stop());
  const post = (length) => `POST /api/calls/start HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
  // 10 MB sent in full: over every route's limit (RESTinio stops reading at once) and over this route's.
  await assertRefused(vx.port, post(10 << 20) + 'x'.repeat(10 << 20), 413, 'a 10 MB body');
  await assertRefused(vx.port, post(2 << 20) + 'x'.repeat(2 << 20), 413, 'a 2 MB body (over MAX_API_BODY_BYTES only)');
  await assertRefused(vx.port, post(100 << 20), 413, 'a 100 MB body announced, not sent');
  await assertRefused(vx.port, get('/api/calls?q=' + 'a'.repeat(100 << 10)), 414, 'a 100 KB URL');
  await assertRefused(vx.port, get('/' + 'a'.repeat(1 << 20)), 414, 'a 1 MB URL');
  await assertRefused(vx.port, get('/healthz', `X-Pad: ${'b'.repeat(100 << 10)}\r\n`), 431, 'a 100 KB header');
  const many = Array.from({ length: 1000 }, (_, i) => `X-Field-${i}: ${'c'.repeat(100)}\r\n`).join('');
  await assertRefused(vx.port, get('/healthz', many), 431, '1,000 header fields');
  await assertRefused(vx.port, get('/healthz', `X-Pad: ${'d'.repeat(1 << 20)}\r\n`), 431, 'a 1 MB header');
  await assertServing(vx);
  assert.equal((await vx.get('/healthz', {})).body.status, 'ok');
});

test('directories are 404; files are served', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  for (const path of ['/js', '/js/', '/css']) {
    const [res] = await exchange(vx.port, get(path, 'Connection: close\r\n'));
    assert.equal(res.status, 404, path);
  }
  const [index] = await exchange(vx.port, get('/', 'Connection: close\r\n'));
  assert.equal(index.status, 200);
  assert.ok(index.body.length > 0);
});

test('pipelined requests are all answered, in order', async (t) => {
  const vx = await startVoxlogd();
  t.after(() => vx.stop());
  const three = await exchange(vx.port, get('/healthz') + get('/no-such-thing') + get('/healthz', 'Connection: close\r\n'));
  assert.deepEqual(three.map((r) => r.status), [200, 404, 200]);
  assert.equal(JSON.parse(three[0].body).status, 'ok');

  // More than a connection may have under way at once (32), reads and a webhook mixed: answered in order.
  const paths = Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? `/api/calls/CA${String(i).padStart(32, '0')}` : '/healthz'));
  const burst = await exchange(vx.port, paths.map((p, i) => get(p, i === paths.length - 1 ? 'Connection: close\r\n' : '')).join(''));
  assert.deepEqual(burst.map((r) => r.status), paths.map((p) => (p === '/healthz' ? 200 : 404)));
  for (const [i, r] of burst.entries()) if (r.status === 404) assert.match(r.body, new RegExp(paths[i].slice(-6)), `answer ${i} is its request's`);

  // A malformed request behind good ones still under way: RESTinio 0.6 closes the connection and drops
  // their answers (they are not lost: a client resends unanswered idempotent requests); what does come
  // is never a wrong answer, the 400 only after the others.
  const mixed = await exchange(vx.port, get('/healthz') + get('/healthz') + 'BAD REQUEST\r\n\r\n');
  assert.deepEqual(mixed.map((r) => r.status), [200, 200, 400].slice(0, mixed.length));
  await assertServing(vx);
});

// Opens `n` connections at once; on every other one a GET is sent at once, the others stay idle (no
// bytes, as an idle client or a port scan). Each entry: {socket, text (received so far), closed}.
async function openMany(port, n) {
  const connections = [];
  await Promise.all(Array.from({ length: n }, (_, i) => new Promise((opened) => {
    const c = { socket: net.connect(port, '127.0.0.1'), text: '', closed: false, sent: i % 2 === 0 };
    connections.push(c);
    c.socket.on('data', (d) => (c.text += d));
    c.socket.on('error', (e) => { c.error = e.code; });
    c.socket.on('close', () => { c.closed = true; opened(); });
    c.socket.on('connect', () => {
      if (c.sent) c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      opened();
    });
  })));
  return connections;
}

test('the open-file soft limit is raised to the hard limit at start', async (t) => {
  const vx = await startVoxlogd({ openFiles: { soft: 256, hard: 2048 } });
  t.after(() => vx.stop());
  const limits = readFileSync(`/proc/${vx.proc.pid}/limits`, 'utf8');
  assert.match(limits, /Max open files\s+2048\s+2048/);
});

// Not in the sanitized build: UBSan checks an object's dynamic type, the first time it meets that type, by
// reading its vtable through a pipe(2); with the descriptor table full the pipe fails and UBSan stops voxlogd
// for "an object with an invalid vptr" (a valid connection, a valid error_category: seen in both).
const sanitizersNeedDescriptors = process.env.VOXLOG_SANITIZED
  ? 'the sanitizers cannot check types once the descriptor table is full' : false;

test('more connections than the open-file limit: the surplus gets 503, nothing stops accepting, all recovers',
  { skip: sanitizersNeedDescriptors }, async (t) => {
  // 256 descriptors: the cap is 192 connections; 600 at once also exhaust the descriptor table (the
  // refused ones linger a moment to be read), which used to stop RESTinio's accept loop for good.
  const vx = await startVoxlogd({ openFiles: { soft: 256, hard: 256 }, env: { HEADER_TIMEOUT_MS: '60000' } });
  t.after(() => vx.stop());
  for (let round = 0; round < 2; round++) {
    const connections = await openMany(vx.port, 600);
    const served = (c) => c.text.startsWith('HTTP/1.1 200 ');
    const refused = (c) => c.text.startsWith('HTTP/1.1 503 ');
    // Every connection is kept (and its request answered) or refused with a 503, and at most 192 are kept.
    const answered = (c) => served(c) || refused(c) || (!c.sent && !c.closed);
    await eventually(() => connections.every(answered), 20000, `round ${round}: every connection answered`)
      .catch((e) => {
        const left = connections.filter((c) => !answered(c));
        const kinds = {};
        for (const c of left) {
          const kind = `${c.sent ? 'sent' : 'idle'}, ${c.closed ? 'closed' : 'open'}, ${c.error ?? 'no error'}, ` +
            `${JSON.stringify(c.text.slice(0, 40))}`;
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
        throw new Error(`${e.message}; unanswered: ${JSON.stringify(kinds)}`);
      });
    const kept = connections.filter((c) => !refused(c));
    assert.ok(kept.length <= 192, `round ${round}: ${kept.length} connections kept; the cap is 192`);
    assert.ok(connections.filter(refused).length >= 600 - 192);
    for (const c of connections.filter(refused)) {
      assert.match(c.text, /\r\nRetry-After: 1\r\n/);
      assert.match(c.text, /"status":503/);
    }
    const sockets = connections.map((c) => c.socket);
    for (const s of sockets) s.destroy();
    // Once they are closed the server answers again, by itself (as soon as it has seen them close: until
    // then a new connection may still find the cap reached, and get its 503).
    await eventually(async () => (await exchange(vx.port, get('/healthz', 'Connection: close\r\n')))[0]?.status === 200,
      10000, `round ${round}: served again once the connections closed`);
  }
});
