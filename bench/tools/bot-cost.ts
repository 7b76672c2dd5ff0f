/**
 * The bots' own cost, measured before choosing a WebRTC stack for them: N sender/receiver pairs in one process,
 * each pair one real ICE/DTLS/SRTP connection, for --seconds; CPU of the process per second and per packet.
 *
 * - werift (the bots as built): pre-encoded VP8 simulcast (3 layers) + Opus packetized into RTP, received and
 *   counted without decoding, with RTCP answered.
 * - @roamhq/wrtc (libwebrtc): a 640x360 I420 video source and a 48 kHz audio source; libwebrtc encodes on the
 *   sender and decodes on the receiver, as it always does: it cannot send pre-encoded frames.
 *
 *   npx tsx bench/tools/bot-cost.ts [--pairs 4] [--seconds 10]
 *
 * Runs in a network namespace of its own (libwebrtc gathers no loopback candidates), like runs with Janus.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadMedia } from '../lib/media.js';
import { reexecInNamespace } from '../lib/netns.js';
import { MediaReceiver } from '../lib/rtc/receiver.js';
import { MediaSender, randomSsrc } from '../lib/rtc/sender.js';
import { BotTransport } from '../lib/rtc/transport.js';
import { machine } from '../lib/system.js';

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '4' }, seconds: { type: 'string', default: '10' }, lib: { type: 'string' } } });
const pairs = Math.max(1, Math.min(32, Number(values.pairs)));
const seconds = Math.max(2, Math.min(120, Number(values.seconds)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Cost { lib: string; pairs: number; seconds: number; cpuCores: number; packetsPerSecond: number; microsecondsPerPacket: number; note: string }

async function measure(lib: string, note: string, packets: () => Promise<number>): Promise<Cost> {
  await sleep(2000);
  const p0 = await packets();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const c1 = process.cpuUsage(c0);
  const dt = (performance.now() - t0) / 1000;
  const n = (await packets()) - p0;
  const cpu = (c1.user + c1.system) / 1e6;
  return { lib, pairs, seconds, cpuCores: cpu / dt, packetsPerSecond: n / dt, microsecondsPerPacket: (cpu * 1e6) / Math.max(1, n), note };
}

async function werift(): Promise<Cost> {
  const media = await loadMedia();
  const senders: MediaSender[] = [];
  const receivers: MediaReceiver[] = [];
  for (let i = 0; i < pairs; i++) {
    const a = await BotTransport.create({ controlling: true });
    const b = await BotTransport.create({ controlling: false });
    await Promise.all([
      a.connect({ ...b.local, remoteDtlsRole: 'server' }),
      b.connect({ ...a.local, remoteDtlsRole: 'client' }),
    ]);
    const tx = new MediaSender(a, media, { mid: 1, twcc: 3 });
    tx.addAudio({ ssrc: randomSsrc(), payloadType: 111, mid: '0' });
    tx.addVideo(media.layers.map(() => ({ ssrc: randomSsrc(), payloadType: 96, mid: '1' })));
    const rx = new MediaReceiver(b, 3);
    rx.setVideoPayloadTypes([96]);
    a.onRtcp((p) => tx.handleRtcp(p));
    b.onRtp((p) => rx.handleRtp(p));
    senders.push(tx);
    receivers.push(rx);
  }
  const tick = setInterval(() => { for (const s of senders) s.tick(); }, 10);
  const r = await measure('werift 0.25.2', 'pre-encoded VP8 3-layer simulcast + Opus, SRTP AEAD_AES_128_GCM, counted without decoding',
    async () => senders.reduce((a, s) => a + s.stats().packets, 0) + receivers.reduce((a, x) => a + x.totals().packets, 0));
  clearInterval(tick);
  return r;
}

async function wrtc(): Promise<Cost> {
  const { default: w } = await import('@roamhq/wrtc') as unknown as { default: any };
  const pcs: any[] = [];
  const sources: { video: any; audio: any }[] = [];
  const W = 640, H = 360;
  for (let i = 0; i < pairs; i++) {
    const pc1 = new w.RTCPeerConnection({ iceServers: [] });
    const pc2 = new w.RTCPeerConnection({ iceServers: [] });
    pc1.onicecandidate = (e: any) => e.candidate && pc2.addIceCandidate(e.candidate);
    pc2.onicecandidate = (e: any) => e.candidate && pc1.addIceCandidate(e.candidate);
    const video = new w.nonstandard.RTCVideoSource();
    const audio = new w.nonstandard.RTCAudioSource();
    pc1.addTrack(video.createTrack());
    pc1.addTrack(audio.createTrack());
    await pc1.setLocalDescription(await pc1.createOffer());
    await pc2.setRemoteDescription(pc1.localDescription);
    await pc2.setLocalDescription(await pc2.createAnswer());
    await pc1.setRemoteDescription(pc2.localDescription);
    pcs.push(pc1, pc2);
    sources.push({ video, audio });
  }
  const frame = new Uint8ClampedArray(W * H * 1.5);
  const samples = new Int16Array(480);
  let n = 0;
  const videoTimer = setInterval(() => {
    n++;
    for (let y = 0; y < H; y += 4) frame.fill((n * 7 + y) & 0xff, y * W, y * W + W); // moving stripes: real encoder work
    for (const s of sources) s.video.onFrame({ width: W, height: H, data: frame });
  }, 33);
  const audioTimer = setInterval(() => {
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(Math.sin((n * 480 + i) / 10) * 8000);
    for (const s of sources) s.audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
  }, 10);
  const packets = async (): Promise<number> => {
    let total = 0;
    for (const pc of pcs) {
      const stats = await pc.getStats();
      stats.forEach((s: any) => {
        if (s.type === 'outbound-rtp') total += s.packetsSent ?? 0;
        if (s.type === 'inbound-rtp') total += s.packetsReceived ?? 0;
      });
    }
    return total;
  };
  const r = await measure('@roamhq/wrtc 0.10.0', `libwebrtc encodes ${W}x${H} VP8 per sender and decodes per receiver, + Opus`, packets);
  clearInterval(videoTimer);
  clearInterval(audioTimer);
  return r;
}

const here = fileURLToPath(import.meta.url);
if (values.lib) {
  const r = values.lib === 'wrtc' ? await wrtc() : await werift();
  process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
  process.exit(0); // wrtc: a process that used tracks must exit explicitly
}
if (!process.env.BENCH_NETNS) reexecInNamespace(here, process.argv.slice(2));
const results: Cost[] = [];
for (const lib of ['werift', 'wrtc']) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', here, '--lib', lib, '--pairs', String(pairs), '--seconds', String(seconds)], { encoding: 'utf8', timeout: 5 * 60_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    console.error(`${lib}: no result (exit ${r.status}): ${r.stderr.split('\n').slice(-5).join(' ')}`);
    continue;
  }
  results.push(JSON.parse(line.slice(7)) as Cost);
}
for (const r of results) {
  console.log(`${r.lib.padEnd(20)} ${r.pairs} pairs: ${r.cpuCores.toFixed(3)} cores, ${Math.round(r.packetsPerSecond)} packets/s (sent+received), ` +
    `${r.microsecondsPerPacket.toFixed(1)} us CPU per packet; ${r.note}`);
}
const dir = path.join(path.dirname(here), '..', 'results', `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-bot-cost`);
await fs.mkdir(dir, { recursive: true });
await fs.writeFile(path.join(dir, 'result.json'), `${JSON.stringify({ bench: 'bot-cost', date: new Date().toISOString(), machine: machine(), results }, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), dir)}/result.json`);
