/**
 * The mediasoup worker's own cost per forwarded packet, without bots: one worker, one Opus producer on a plain
 * transport fed by this process (--pps packets of --size bytes a second), --consumers consumers of it on ONE plain
 * transport (one UDP socket, like a WebRtcServer's), SRTP AEAD_AES_128_GCM out (--srtp none: plain RTP), received
 * and counted here without decrypting. Worker CPU from mediasoup's getResourceUsage (user + system).
 * Compares worker binaries in the same run, alternating them --rounds times (each in a child process: mediasoup
 * reads MEDIASOUP_WORKER_BIN when it loads):
 *
 *   npx tsx bench/tools/worker-fanout.ts --bins OLD,NEW [--consumers 40] [--pps 500] [--seconds 10] [--rounds 3]
 *
 * Traffic stays on 127.0.0.1 (ports picked by the kernel and mediasoup).
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { types as MS } from 'mediasoup';

const { values } = parseArgs({
  options: {
    bins: { type: 'string', default: process.env.MEDIASOUP_WORKER_BIN ?? '' },
    consumers: { type: 'string', default: '40' },
    pps: { type: 'string', default: '500' },
    size: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    srtp: { type: 'string', default: 'gcm' },
    child: { type: 'boolean', default: false },
  },
});
const bound = (v: string | undefined, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(Number(v))));
const consumers = bound(values.consumers, 1, 500);
const pps = bound(values.pps, 10, 5000);
const size = bound(values.size, 20, 1200);
const seconds = bound(values.seconds, 2, 120);
const rounds = bound(values.rounds, 1, 10);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Figures { forwardedPps: number; workerCores: number; pktPerWorkerCpuSecond: number; receivedPct: number }

async function child(): Promise<Figures> {
  const mediasoup = await import('mediasoup');
  const worker = await mediasoup.createWorker({ logLevel: 'error' });
  try {
    const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    const ingress = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await ingress.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 0x2222 }] },
    });
    const receiver = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    let received = 0;
    receiver.on('message', () => { received++; });
    const srtp = values.srtp !== 'none';
    const egress = await router.createPlainTransport({
      listenIp: '127.0.0.1', rtcpMux: true, comedia: false, enableSrtp: srtp, srtpCryptoSuite: 'AEAD_AES_128_GCM',
    });
    await egress.connect({
      ip: '127.0.0.1', port: receiver.address().port,
      ...(srtp ? { srtpParameters: { cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: Buffer.alloc(28, 7).toString('base64') } } : {}),
    });
    const list: MS.Consumer[] = [];
    for (let i = 0; i < consumers; i++) list.push(await egress.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities }));
    const sender = dgram.createSocket('udp4');
    const port = ingress.tuple.localPort;
    const packet = Buffer.alloc(size, 0xab);
    packet[0] = 0x80;
    packet[1] = 100;
    packet.writeUInt32BE(0x2222, 8);
    let seq = 0;
    const perTick = Math.max(1, Math.round(pps / 100));
    const tick = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        seq++;
        packet.writeUInt16BE(seq & 0xffff, 2);
        packet.writeUInt32BE((seq * 960) >>> 0, 4);
        sender.send(packet, port, '127.0.0.1');
      }
    }, 10);
    const sent = async () => (await Promise.all(list.map((c) => c.getStats()))).reduce((a, s) => a + (s.find((x) => x.type === 'outbound-rtp')?.packetCount ?? 0), 0);
    await sleep(2000);
    const u0 = await worker.getResourceUsage();
    const p0 = await sent();
    const r0 = received;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const u1 = await worker.getResourceUsage();
    const p1 = await sent();
    const r1 = received;
    const dt = (performance.now() - t0) / 1000;
    clearInterval(tick);
    sender.close();
    receiver.close();
    const cpu = (u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime) / 1000;
    const forwarded = p1 - p0;
    return { forwardedPps: forwarded / dt, workerCores: cpu / dt, pktPerWorkerCpuSecond: forwarded / cpu, receivedPct: (100 * (r1 - r0)) / Math.max(1, forwarded) };
  } finally {
    worker.close();
  }
}

if (values.child) {
  console.log(JSON.stringify(await child()));
  process.exit(0);
}

const bins = values.bins!.split(',').filter(Boolean);
if (bins.length === 0) throw new Error('--bins OLD,NEW (mediasoup-worker binaries) is required');
const self = fileURLToPath(import.meta.url);
const args = ['--import', 'tsx', self, '--child', '--consumers', String(consumers), '--pps', String(pps), '--size', String(size), '--seconds', String(seconds), '--srtp', values.srtp!];
const results = new Map<string, Figures[]>(bins.map((b) => [b, []]));
console.log(`${consumers} consumers on one socket, ${pps} pkt/s of ${size} B in, SRTP ${values.srtp}, ${seconds} s a measure, ${rounds} rounds`);
for (let r = 0; r < rounds; r++) {
  for (const bin of bins) {
    const run = spawnSync(process.execPath, args, { env: { ...process.env, MEDIASOUP_WORKER_BIN: bin }, encoding: 'utf8', timeout: (seconds + 60) * 1000 });
    if (run.status !== 0) throw new Error(`${bin}: ${run.stderr || run.error}`);
    const f = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Figures;
    results.get(bin)!.push(f);
    console.log(`round ${r + 1} ${bin}: ${Math.round(f.forwardedPps)} pkt/s out, worker ${f.workerCores.toFixed(3)} cores, ` +
      `${Math.round(f.pktPerWorkerCpuSecond)} pkt per worker-CPU-second, received ${f.receivedPct.toFixed(1)}%`);
  }
}
const pooled = (fs: Figures[]) => fs.reduce((a, f) => a + f.forwardedPps, 0) / fs.reduce((a, f) => a + f.workerCores, 0);
const base = pooled(results.get(bins[0]!)!);
for (const [bin, fs] of results) console.log(`${bin}: ${Math.round(pooled(fs))} pkt per worker-CPU-second over ${fs.length} rounds (${(pooled(fs) / base).toFixed(2)}x the first)`);
