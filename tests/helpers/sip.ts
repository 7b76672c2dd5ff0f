/**
 * The phone side of tests and the bench: the SIP gateway as its own process (edge-node/sip/main.ts) on free ports,
 * and SIPp (Debian's sip-tester) placing real calls: RTP from its shipped G.711 recording, RFC 4733 DTMF from its
 * shipped digit recordings.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePortBase, waitFor } from './edge.js';

export const SIPP_PCAP_DIR = '/usr/share/sip-tester';

export interface TestGateway {
  sipPort: number;
  httpUrl: string;
  pid: number;
  calls: () => Promise<Array<{ callId: string; state: string; participantId: string | null; joinToAudioMs: number | null; packetsToCaller: number }>>;
  stop: () => Promise<void>;
}

export async function startGateway(controlUrl: string, secret: string, env: Record<string, string> = {}): Promise<TestGateway> {
  const sipPort = await freePortBase(1);
  const rtp = await freePortBase(120);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'edge-node/sip/main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env, SIP_CONTROL_URL: controlUrl, PHONE_GATEWAY_SECRET: secret, SIP_PORT: String(sipPort), SIP_HTTP_PORT: '0',
      SIP_RTP_MIN_PORT: String(rtp), SIP_RTP_MAX_PORT: String(rtp + 119), SIP_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  if (process.env.TEST_LOG_LEVEL) child.stdout!.pipe(process.stderr);
  const ready = await waitFor('the SIP gateway to start', () => {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}`);
    const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
    return line ? (JSON.parse(line) as { http: string }) : null;
  }, 60_000, 100);
  return {
    sipPort,
    httpUrl: ready.http,
    pid: child.pid!,
    calls: async () => ((await (await fetch(`${ready.http}/calls`)).json()) as { calls: never[] }).calls,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export interface DialIn {
  /** Key presses, e.g. `1234567890#4321#`. */
  keys: string;
  /** Pause before the first key (ms), and between keys. */
  leadMs?: number;
  /** After the keys: wait, then play the G.711 recording (7 s) into the call. */
  afterKeysMs?: number;
  playVoice?: boolean;
  /** Play the 7 s recording this many times back to back (a caller who keeps talking). */
  voiceLoops?: number;
  /** Then hang up after this long (ms), or wait for the gateway's BYE when `awaitBye`. */
  holdMs?: number;
  awaitBye?: boolean;
  /** Where the caller receives RTP (a test's own socket), instead of SIPp's media port. */
  mediaPort?: number;
}

const KEY_FILE: Record<string, string> = { '#': 'pound', '*': 'star' };

/** A SIPp client scenario: INVITE with PCMA + telephone-event, ACK, the keys as RFC 4733, voice, then BYE (or await one). */
export function dialInScenario(d: DialIn): string {
  const keys = [...d.keys].map((k) => `
  <nop><action><exec play_pcap_audio="${SIPP_PCAP_DIR}/dtmf_2833_${KEY_FILE[k] ?? k}.pcap"/></action></nop>
  <pause milliseconds="300"/>`).join('');
  const voice = `
  <nop><action><exec play_pcap_audio="${SIPP_PCAP_DIR}/g711a.pcap"/></action></nop>`;
  const loops = Math.max(1, Math.min(100, d.voiceLoops ?? 1));
  // SIPp aborts a call on a request that arrives during a pause: awaiting the gateway's BYE, wait in <recv> at once.
  const afterKeys = d.afterKeysMs ?? (d.awaitBye ? 0 : 1500);
  const end = d.awaitBye
    ? `
  <recv request="BYE" timeout="120000"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>`
    : `
  <pause milliseconds="${d.holdMs ?? 3000}"/>
  <send retrans="500"><![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555010[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>`;
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="MeshMeet dial-in">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555010[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio ${d.mediaPort ?? '[media_port]'} RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555010[call_number]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="${d.leadMs ?? 500}"/>${keys}${afterKeys > 0 ? `
  <pause milliseconds="${afterKeys}"/>` : ''}${d.playVoice ? Array(loops).fill(voice).join(`
  <pause milliseconds="7060"/>`) : ''}${end}
</scenario>
`;
}

export interface SippResult {
  code: number;
  stdout: string;
  stderr: string;
  successful: number;
  failed: number;
}

/** Runs SIPp to completion (bounded): `calls` calls, at most `calls` at once, `rate` new calls per second. */
export async function runSipp(gatewayPort: number, scenario: DialIn, o: { calls?: number; rate?: number; timeoutS?: number } = {}): Promise<SippResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-sipp-'));
  const file = path.join(dir, 'scenario.xml');
  await fs.writeFile(file, dialInScenario(scenario));
  const calls = o.calls ?? 1;
  const base = await freePortBase(2);
  const media = await freePortBase(4);
  const stats = path.join(dir, 'stats.csv');
  const args = [
    '-sf', file, '-i', '127.0.0.1', '-p', String(base), '-mp', String(media), '-s', 'join', `127.0.0.1:${gatewayPort}`,
    '-m', String(calls), '-l', String(calls), '-r', String(o.rate ?? 10), '-timeout', `${o.timeoutS ?? 120}s`, '-timeout_error',
    '-nostdin', '-trace_stat', '-stf', stats, '-fd', '1',
    ...(process.env.SIPP_TRACE ? ['-trace_msg', '-trace_err'] : []),
  ];
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('sipp', args, { cwd: dir, timeout: ((o.timeoutS ?? 120) + 30) * 1000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
  const csv = await fs.readFile(stats, 'utf8').catch(() => '');
  const lines = csv.trim().split('\n');
  const head = lines[0]?.split(';') ?? [];
  const last = lines.at(-1)?.split(';') ?? [];
  const col = (name: string) => Number(last[head.indexOf(name)] ?? NaN);
  if (process.env.SIPP_TRACE) console.log(`SIPp traces kept in ${dir}`);
  else await fs.rm(dir, { recursive: true, force: true });
  return { ...r, successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}
