// Restart safety (issue 16 item 9): voxlogd is killed with SIGKILL mid-campaign at three moments (a create
// under way whose answer Twilio is slow to give, a retry waiting its turn, contacts deferred by the calling
// window) and started again on the same data. Twilio is a separate voxlog-sim process that outlives every
// crash, so its own record of executions is the witness: the campaign completes, the retries fire, and no
// (number, attempt) was ever dialled twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startVoxlogd, eventually } from '../lib/voxlogd.mjs';
import { startTwilioSim } from '../lib/twilio_sim.mjs';

const TOKEN = 'restart-test-twilio-token-0123456789';
const ACCOUNT = 'AC' + '7'.repeat(32);
const startSimulator = () => startTwilioSim({ account: ACCOUNT, token: TOKEN });

async function campaignEvents(vx, id) {
  const out = [];
  for (;;) {
    const page = (await vx.get(`/api/events?limit=1000&after=${out.length ? out.at(-1).seq : 0}`)).body.events;
    out.push(...page);
    if (page.length < 1000) return out.filter((e) => e.stream === `campaign-${id}`);
  }
}

test('SIGKILL mid-campaign, three times: the campaign goes on, retries fire, nobody is dialled twice for one attempt', async (t) => {
  const sim = await startSimulator();
  t.after(() => sim.stop());
  const vx = await startVoxlogd({
    env: {
      TWILIO_ACCOUNT_SID: ACCOUNT, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FLOW_SID: sim.flowSid,
      TWILIO_PHONE_NUMBER: '+15005550006', TWILIO_API_BASE: sim.url, TWILIO_CPS: '4',
      // Monday 08:59 UTC, ten minutes of campaign time a second, the same clock after every restart.
      CLOCK_START: '2026-12-07T08:59:00Z', CLOCK_SCALE: '600', CLOCK_ANCHOR_MS: String(Date.now()),
      CAMPAIGN_CHECK_MS: '500',
    },
  });
  t.after(() => vx.stop());
  // London opens at 09:00 UTC (0.1 s from now), Sao Paulo at 12:00 UTC (18 s from now).
  const london = Array.from({ length: 6 }, (_, i) => `+44791112960${i}`);
  const saoPaulo = Array.from({ length: 3 }, (_, i) => `+44791112970${i}`);
  for (const to of london.slice(0, 2)) {  // busy first: a retry after 30 campaign minutes (3 s)
    await sim.admin('/__sim/script', { to, answer: 'busy' });
    await sim.admin('/__sim/script', { to, answer: 'human', digits: '1' });
  }
  for (const to of [...london.slice(2), ...saoPaulo]) await sim.admin('/__sim/script', { to, answer: 'human', digits: '1' });
  // The first two creates take 3 s to be answered (the executions exist at once): a crash then leaves a
  // request whose outcome voxlog never heard.
  await sim.admin('/__sim/faults', { slow_ms: 3000, slow_requests: 2 });
  const created = await vx.post('/api/campaigns', {
    name: 'restart', cps: 4,
    window: { from: '09:00', to: '20:00' },
    retry: { max_attempts: 2, spacing_s: 1800, on: ['busy'] },
    contacts: [...london.map((phone) => ({ phone, tz: 'Europe/London' })),
      ...saoPaulo.map((phone) => ({ phone, tz: 'America/Sao_Paulo' }))],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.data.id;
  const has = (type) => async () => (await campaignEvents(vx, id)).some((e) => e.type === type);

  // 1. Between a request and its outcome: the slow create is under way.
  await eventually(has('CallQueued'), 10000, 'a call queued');
  await vx.crash();
  await vx.relaunch();
  // 2. During a retry wait.
  await eventually(has('RetryScheduled'), 20000, 'a retry scheduled');
  await vx.crash();
  await vx.relaunch();
  // 3. While the Sao Paulo contacts are deferred by the window.
  const deferred = async () => (await vx.get(`/api/campaigns/${id}`)).body.data.counts.deferred > 0;
  await eventually(deferred, 20000, 'contacts deferred by the window');
  await vx.crash();
  await vx.relaunch();

  const done = await eventually(async () => {
    const c = (await vx.get(`/api/campaigns/${id}`)).body.data;
    return c.state === 'completed' ? c : null;
  }, 60000, 'the campaign to complete after three crashes');
  const finals = ['confirmed', 'no_outcome', 'unreachable'].reduce((n, s) => n + done.counts[s], 0);
  assert.equal(finals, 9, JSON.stringify(done.counts));
  const executions = await sim.executions();
  const attempts = executions.map((e) => `${e.to}#${e.parameters.attempt}`);
  assert.equal(new Set(attempts).size, attempts.length, `dialled twice for one attempt: ${attempts.sort().join(' ')}`);
  for (const to of london.slice(0, 2)) {
    if (attempts.includes(`${to}#2`)) continue;
    const story = (await campaignEvents(vx, id)).filter((e) => e.data.phone === to)
      .map((e) => `${e.seq} ${e.type} ${JSON.stringify(e.data)}`);
    assert.fail(`the retry of ${to} did not fire after the restarts: ${attempts.join(' ')}\n${story.join('\n')}`);
  }
  for (const to of [...london, ...saoPaulo]) assert.ok(attempts.includes(`${to}#1`), `${to} was called`);
  const stream = await campaignEvents(vx, id);
  // The crash during the slow create left a request without an outcome: recovery found its execution in
  // Studio and adopted it instead of dialling again.
  assert.ok(stream.some((e) => e.type === 'CallPlaced' && e.data.recovered), 'an attempt was recovered from Studio');
  const saoPauloQueued = stream.filter((e) => e.type === 'CallQueued' && saoPaulo.includes(e.data.phone));
  assert.equal(saoPauloQueued.length, 3);
  const windowOpened = Date.parse('2026-12-07T12:00:00Z');
  for (const e of stream.filter((x) => x.type === 'CallDeferred' && saoPaulo.includes(x.data.phone)))
    assert.equal(e.data.until, windowOpened);
});
