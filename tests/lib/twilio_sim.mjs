// Twilio as a separate voxlog-sim process, for tests where voxlogd is killed or several voxlogd share one
// Twilio: the simulator outlives them, and its record of executions is the witness of what was dialled.
//
// Contract: `startTwilioSim({account, token, timeScale})` spawns the binary named by VOXLOG_SIM (ctest sets
// it) on a free port and resolves to {url, flowSid, account, token, proc, admin(path, body), executions(),
// stop()}. It signs its webhooks with `token`. The caller must call stop() (t.after(() => sim.stop())).
import { spawn } from 'node:child_process';

export const SIM = process.env.VOXLOG_SIM || new URL('../../build/tools/simulator/voxlog-sim', import.meta.url).pathname;
export const FLOW = new URL('../../flow.json', import.meta.url).pathname;

export async function startTwilioSim({ account = 'AC' + '3'.repeat(32), token, timeScale = 0.05 } = {}) {
  const proc = spawn(SIM, ['--port', '0', '--account-sid', account, '--auth-token', token, '--flow', FLOW,
    '--time-scale', String(timeScale)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const info = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      output += d;
      const m = output.match(/listening on (http:\/\/[^ ]+) \(flow (FW\w+)/);
      if (m) resolve({ url: m[1], flowSid: m[2] });
    });
    proc.stderr.on('data', (d) => { output += d; });
    proc.on('exit', (code) => reject(new Error(`voxlog-sim exited ${code}: ${output}`)));
  });
  const admin = async (path, body) => (await fetch(info.url + path, body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  return {
    ...info, account, token, proc, admin,
    executions: async () => (await admin('/__sim/executions')).executions,
    stop: () => proc.kill('SIGKILL'),
  };
}
