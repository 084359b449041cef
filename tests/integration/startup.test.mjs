// Start-up failures exit promptly, non-zero, with the reason on stderr (a supervisor can restart or
// report); they never hang waiting for a signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { runUntilExit as run, tempDir } from '../lib/voxlogd.mjs';

test('port in use: exits 1 naming the address', async (t) => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const { code, stderr, stdout } = await run({ PORT: String(blocker.address().port) });
  assert.equal(code, 1);
  assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+/);
  assert.doesNotMatch(stdout, /listening on/);
});

test('a missing FLOW_FILE: exits 1 naming it', async () => {
  const { code, stderr } = await run({ FLOW_FILE: '/nonexistent/flow.json' });
  assert.equal(code, 1);
  assert.match(stderr, /cannot start the Twilio simulator: .*\/nonexistent\/flow\.json/);
});

test('a bad setting: exits 1 naming the variable, before anything starts', async () => {
  for (const [name, value] of [['SOCKETIO_PING_INTERVAL_MS', 'soon'], ['WS_PING_MS', '5'], ['PORT', '70000'], ['MAX_CONNECTIONS', '0']]) {
    const { code, stderr } = await run({ [name]: value });
    assert.equal(code, 1, name);
    assert.match(stderr, new RegExp(name), name);
  }
});

test('a data directory that cannot be used: exits 1 saying why', async () => {
  const dir = tempDir();
  const file = join(dir, 'not-a-directory');
  writeFileSync(file, 'x');
  const { code, stderr } = await run({ DATA_DIR: file });
  assert.equal(code, 1);
  assert.match(stderr, /not-a-directory/);
});
