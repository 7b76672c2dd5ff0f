/**
 * Phone calls at once and the SIP gateway's CPU per call: a real control plane (PostgreSQL), edge node and gateway
 * process; SIPp places N calls into one meeting (DTMF PIN and passcode, then its G.711 voice recording, looped by
 * re-playing), all held together for `--hold` seconds. The gateway's CPU (utime+stime from /proc) is sampled over the
 * window in which all N are in the meeting, and over an idle window of the same length before.
 * Each caller talks all the time (SIPp's 7 s recording looped), so each call encodes Opus 50 times a second and mixes
 * the loudest 3 of the other callers: the busy case.
 *
 *   npx tsx bench/sip-calls.ts [--calls 20] [--hold 30] [--out bench/results/sip-calls.json]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, waitFor } from '../tests/helpers/edge.js';
import { signedIn } from '../tests/helpers/http-browser.js';
import { runSipp, startGateway } from '../tests/helpers/sip.js';
import { startSystem } from '../tests/helpers/system.js';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20' },
    hold: { type: 'string', default: '30' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/sip-calls.json') },
  },
});
const CALLS = Math.max(1, Math.min(200, Number(values.calls)));
const HOLD_S = Math.max(5, Math.min(600, Number(values.hold)));
const SECRET = 'phone-gateway-secret-for-the-bench';
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts in 1/100 s on Linux

async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
}

const system = await startSystem({ control: { phoneGatewaySecret: SECRET, dialInNumber: '+1 555 0100' } });
const gateway = await startGateway(system.controlUrl, SECRET, { SIP_LOG_LEVEL: 'warn' });
try {
  const host = await signedIn(system.controlUrl, 'bench@example.test', 'bench-password-1', 'Bench Host');
  const post = async (p: string, body: unknown) => (await host.fetch(`${system.controlUrl}${p}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;
  const m = await post('/meetings', { kind: 'instant', title: 'Bench', settings: { access: 'link', passcode: '4321', maxParticipants: 1000 } });
  const pin = ((await (await host.fetch(`${system.controlUrl}/meetings/${m.id}/dial-in`)).json()) as { pin: string }).pin;

  const windowMs = Math.min(10_000, (HOLD_S * 1000) / 2);
  const idle0 = await cpuSeconds(gateway.pid);
  await new Promise((r) => setTimeout(r, windowMs));
  const idleCpu = (await cpuSeconds(gateway.pid)) - idle0;

  // Every caller keeps talking (the recording looped) for the whole hold, so that every call encodes and mixes.
  const loops = Math.ceil(HOLD_S / 7) + 4;
  const sipp = runSipp(gateway.sipPort, { keys: `${pin}#4321#`, afterKeysMs: 500, playVoice: true, voiceLoops: loops, holdMs: 1000 }, {
    calls: CALLS, rate: 10, timeoutS: HOLD_S + 120 });
  let seen = '';
  await waitFor(`${CALLS} calls in the meeting`, async () => {
    const calls = await gateway.calls();
    seen = JSON.stringify(calls.reduce<Record<string, number>>((n, c) => ({ ...n, [c.state]: (n[c.state] ?? 0) + 1 }), {}));
    return calls.filter((c) => c.state === 'meeting').length === CALLS;
  }, 180_000, 250).catch((err: Error) => {
    throw new Error(`${err.message}; calls by state: ${seen}`);
  });
  const held = (await gateway.calls()).filter((c) => c.state === 'meeting').length;
  const t0 = performance.now();
  const c0 = await cpuSeconds(gateway.pid);
  await new Promise((r) => setTimeout(r, windowMs));
  const busyCpu = (await cpuSeconds(gateway.pid)) - c0;
  const seconds = (performance.now() - t0) / 1000;
  const stillHeld = (await gateway.calls()).filter((c) => c.state === 'meeting').length;
  const joinMs = (await gateway.calls()).map((c) => c.joinToAudioMs).filter((x): x is number => x !== null).sort((a, b) => a - b);
  const r = await sipp;
  const perCall = (busyCpu - idleCpu) / seconds / CALLS;
  const report = {
    calls: CALLS,
    heldAtOnce: held,
    stillHeldAfterWindow: stillHeld,
    sippSuccessful: r.successful,
    sippFailed: r.failed,
    windowSeconds: Number(seconds.toFixed(2)),
    gatewayCpuCoresBusy: Number((busyCpu / seconds).toFixed(3)),
    gatewayCpuCoresIdle: Number((idleCpu / seconds).toFixed(3)),
    gatewayCpuPerCallPercentOfCore: Number((perCall * 100).toFixed(2)),
    joinToAudioMsMedian: joinMs[Math.floor(joinMs.length / 2)] ?? null,
    joinToAudioMsMax: joinMs.at(-1) ?? null,
    note: 'every caller talks all the time (SIPp\'s G.711 recording looped) and hears the loudest 3 of the others; Opus complexity 5; 2-core machine shared with the node, PostgreSQL and SIPp. joinToAudio here includes waiting for someone else to be talking (the first callers are alone): see tests/e2e/phone.test.ts for the join latency',
  };
  await fs.mkdir(path.dirname(values.out!), { recursive: true });
  await fs.writeFile(values.out!, JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
} finally {
  await gateway.stop();
  await system.stop();
}
