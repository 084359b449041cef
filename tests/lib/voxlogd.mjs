// Test harness: starts the real voxlogd on 127.0.0.1 with a temporary data dir and talks real HTTP to it.
//
// Contract: `startVoxlogd({env, dataDir})` spawns the binary named by VOXLOGD (ctest sets it), with PORT=0
// so the OS picks a free port, waits for its "listening on" line and resolves to a handle:
//   {url, port, dataDir, proc, stop(), restart(), get(path), post(path, body, headers), ws(path)}.
// `openFiles: {soft, hard}` starts it under those open-file limits (the shell's ulimit, then exec).
// stop() sends SIGTERM and waits for a clean exit (rejects on a non-zero exit code). Every test must stop
// what it starts (use t.after / finally).
// Webhooks are verified as in production: voxlogd runs with TWILIO_AUTH_TOKEN=WEBHOOK_TOKEN (the embedded
// simulator signs with it too), and post() to /api/calls/webhooks/* signs the request with it exactly as
// Twilio does, unless the caller passes its own X-Twilio-Signature (an empty one sends none).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { signForm, signJson } from './twilio.mjs';

export const WEBHOOK_TOKEN = 'voxlog-test-webhook-token-0123456789';

export const VOXLOGD = process.env.VOXLOGD || new URL('../../build/tools/voxlogd/voxlogd', import.meta.url).pathname;

export function tempDir(prefix = 'voxlog-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

// A sanitized build's settings (tools/dev test-sanitized sets them) reach every voxlogd a test starts. A
// voxlogd with a library in LD_PRELOAD has that library, not ASan's runtime, first in its list: allowed (an
// unsanitized voxlogd ignores the option).
function sanitizerEnv({ preload } = {}) {
  const names = ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'];
  const env = Object.fromEntries(names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]]));
  if (preload) env.ASAN_OPTIONS = [env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':');
  return env;
}

function launch(env, dataDir, port, openFiles) {
  const limits = openFiles ? `ulimit -S -n ${openFiles.soft}; ulimit -H -n ${openFiles.hard ?? openFiles.soft}; ` : '';
  const [file, args] = openFiles ? ['/bin/sh', ['-c', `${limits}exec "$0" "$@"`, VOXLOGD, '/nonexistent.env']] : [VOXLOGD, ['/nonexistent.env']];
  const proc = spawn(file, args, {
    env: {
      PATH: process.env.PATH,
      DATA_DIR: dataDir,
      PORT: String(port),
      BIND_ADDRESS: '127.0.0.1',
      SIM_TIME_SCALE: '0.01',
      TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN,
      ...sanitizerEnv({ preload: env.LD_PRELOAD }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`voxlogd did not start within 20 s:\n${output}`)), 20000);
    const onData = (chunk) => {
      output += chunk;
      const m = /voxlogd listening on http:\/\/[\d.]+:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (chunk) => (output += chunk));
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`voxlogd exited (code ${code}, signal ${signal}) before listening:\n${output}`));
    });
  });
  return { proc, listening, exited, output: () => output };
}

export async function startVoxlogd({ env = {}, dataDir = tempDir(), keepDataDir = false, openFiles } = {}) {
  let current = launch(env, dataDir, 0, openFiles);
  const port = await current.listening;
  const url = `http://127.0.0.1:${port}`;
  const handle = {
    url,
    port,
    dataDir,
    get proc() {
      return current.proc;
    },
    output: () => current.output(),
    async stop({ removeData = !keepDataDir } = {}) {
      if (current.proc.exitCode === null && current.proc.signalCode === null) current.proc.kill('SIGTERM');
      const { code, signal } = await current.exited;
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
      if (code !== 0) throw new Error(`voxlogd exited with code ${code} signal ${signal}:\n${current.output()}`);
    },
    // Kills the process with SIGKILL (a crash: nothing is flushed or answered) and waits for it to die.
    async crash() {
      current.proc.kill('SIGKILL');
      await current.exited;
    },
    // Starts again on the same port and data dir after a crash.
    async relaunch() {
      current = launch(env, dataDir, port, openFiles);
      await current.listening;
    },
    // Stops and starts again on the same port and data dir (a restart keeps everything).
    async restart() {
      await handle.stop({ removeData: false });
      current = launch(env, dataDir, port, openFiles);
      await current.listening;
    },
    async get(path, headers = {}) {
      const res = await fetch(url + path, { headers });
      const text = await res.text();
      let body;
      try { body = JSON.parse(text); } catch { body = text; }
      return { status: res.status, headers: res.headers, body };
    },
    async post(path, body, headers = {}) {
      const isForm = typeof body === 'string' || body instanceof URLSearchParams;
      const raw = isForm ? String(body) : JSON.stringify(body);
      const contentType = isForm ? 'application/x-www-form-urlencoded' : 'application/json';
      const signed = handle.signWebhook(path, raw, contentType, headers);
      const res = await fetch(url + signed.path, {
        method: 'POST',
        headers: { 'Content-Type': contentType, ...signed.headers },
        body: raw,
      });
      const text = await res.text();
      let parsed;
      try { parsed = JSON.parse(text); } catch { parsed = text; }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    // For a webhook path without an X-Twilio-Signature of the caller's: the path (a JSON body's carries
    // bodySHA256) and the headers of a request signed as Twilio signs it, for `raw` sent as `contentType`.
    signWebhook(path, raw, contentType, headers = {}) {
      if (!path.startsWith('/api/calls/webhooks/') || 'X-Twilio-Signature' in headers) return { path, headers };
      const token = env.TWILIO_AUTH_TOKEN ?? WEBHOOK_TOKEN;
      const base = env.PUBLIC_URL || env.NGROK_URL || url;
      if (contentType.startsWith('application/json')) {
        const s = signJson(token, base + path, raw);
        return { path: s.url.slice(base.length), headers: { ...headers, ...s.headers } };
      }
      return { path, headers: { ...headers, ...signForm(token, base + path, Object.fromEntries(new URLSearchParams(raw))) } };
    },
    // Waits until the view has committed everything in the log (API reads wait for this themselves;
    // /healthz does not).
    async settled() {
      return eventually(async () => {
        const h = (await handle.get('/healthz')).body;
        return h.viewCheckpoint === h.lastSeq ? h : null;
      }, 10000, 'the calls view to catch up with the log');
    },
    ws(path = '/ws') {
      return new WebSocketClient(url.replace('http', 'ws') + path);
    },
  };
  return handle;
}

// A WebSocket client that buffers every JSON message so tests can wait for the ones they expect.
export class WebSocketClient {
  constructor(url) {
    this.messages = [];
    this.closed = null;
    this.waiters = [];
    this.socket = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', resolve);
      this.socket.once('error', reject);
    });
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.waiters = this.waiters.filter((w) => !w());
    });
    this.socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.waiters = this.waiters.filter((w) => !w());
    });
  }
  // Resolves with the messages once `predicate(messages)` holds; rejects after `ms`.
  waitFor(predicate, ms = 10000, what = 'messages') {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.messages, this.closed)) {
          clearTimeout(timer);
          resolve(this.messages);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 2000)}`)), ms);
      if (!check()) this.waiters.push(check);
    });
  }
  close() {
    this.socket.close();
  }
  terminate() {
    this.socket.terminate();
  }
}

// Runs voxlogd expecting it to exit by itself (a start-up failure): resolves to {code, signal, stdout,
// stderr}; rejects when it is still running after 15 s.
export function runUntilExit(env) {
  return new Promise((resolve, reject) => {
    const proc = spawn(VOXLOGD, ['/nonexistent.env'], {
      env: { PATH: process.env.PATH, DATA_DIR: tempDir(), PORT: '0', ...sanitizerEnv({ preload: env?.LD_PRELOAD }), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`voxlogd did not exit within 15 s:\n${stdout}${stderr}`)); }, 15000);
    proc.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls fn() until it returns a truthy value; rejects after `ms` with the last value seen.
export async function eventually(fn, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`);
}
