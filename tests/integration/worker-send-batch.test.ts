/**
 * Our mediasoup worker (scripts/build-mediasoup-worker.sh with scripts/mediasoup-worker-patches/) sends the datagrams
 * it queues for one UDP socket within one libuv loop iteration with one sendmmsg(2), instead of one sendmsg(2) each.
 * A real worker, with strace attached, forwards RTP from a plain transport to several consumers on one plain transport
 * (one socket): every packet arrives, once per consumer, in order, and the worker made at most half as many send
 * system calls as it sent datagrams (the unpatched worker: one sendmsg each).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as mediasoup from 'mediasoup';
import type { types as MS } from 'mediasoup';
import { waitFor } from '../helpers/edge.js';

const CONSUMERS = 8;
const PACKETS = 60;
const PAYLOAD_TYPE = 100;
const SSRC = 0x1111;

function rtp(seq: number): Buffer {
  const b = Buffer.alloc(12 + 160, 0xab);
  b[0] = 0x80;
  b[1] = PAYLOAD_TYPE;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 960, 4);
  b.writeUInt32BE(SSRC, 8);
  return b;
}

/** Calls per system call name from `strace -c` output. */
function syscallCounts(summary: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of summary.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m) counts.set(m[2]!, Number(m[1]));
  }
  return counts;
}

describe('the worker batches UDP sends (sendmmsg)', { timeout: 60_000 }, () => {
  const realBin = process.env.MEDIASOUP_WORKER_BIN;
  let dir: string;
  let trace: string;
  let worker: MS.Worker;
  let strace: ChildProcess | undefined;
  const sockets: dgram.Socket[] = [];

  before(async () => {
    assert.ok(realBin, 'MEDIASOUP_WORKER_BIN must name the built worker (scripts/build-mediasoup-worker.sh)');
    assert.equal(spawnSync('strace', ['-V']).status, 0, 'strace is needed (scripts/setup.sh installs it)');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-send-batch-'));
    trace = path.join(dir, 'strace.txt');
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    // strace attaches to the running worker and counts its send system calls; it writes the counts when it detaches.
    strace = spawn('strace', ['-f', '-c', '-o', trace, '-e', 'trace=sendmsg,sendmmsg,sendto', '-p', String(worker.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let attachLog = '';
    strace.stderr!.on('data', (d: Buffer) => { attachLog += d.toString(); });
    await waitFor('strace attached to the worker', () => /attached/.test(attachLog), 10_000);
  });
  after(async () => {
    for (const s of sockets) s.close();
    strace?.kill('SIGKILL');
    worker?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('every packet reaches every consumer, in order, with fewer system calls than datagrams', async () => {
    const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    const ingress = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const producer = await ingress.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: SSRC }] },
    });

    const receiver = dgram.createSocket('udp4');
    sockets.push(receiver);
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    const received = new Map<number, number[]>(); // consumer SSRC -> sequence numbers in arrival order
    receiver.on('message', (msg) => {
      if (msg.length < 12 || ((msg[1]! & 0x7f) >= 72 && (msg[1]! & 0x7f) <= 79)) return; // RTCP (rtcp-mux)
      const ssrc = msg.readUInt32BE(8);
      const seqs = received.get(ssrc) ?? [];
      seqs.push(msg.readUInt16BE(2));
      received.set(ssrc, seqs);
    });
    const egress = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await egress.connect({ ip: '127.0.0.1', port: receiver.address().port });
    const consumers: MS.Consumer[] = [];
    for (let i = 0; i < CONSUMERS; i++) consumers.push(await egress.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities }));

    const sender = dgram.createSocket('udp4');
    sockets.push(sender);
    const { localPort } = ingress.tuple;
    // A few packets at a time, so that the worker reads one or several per loop iteration.
    for (let seq = 1; seq <= PACKETS; seq++) {
      await new Promise<void>((resolve, reject) => sender.send(rtp(seq), localPort, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      if (seq % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor('every packet at every consumer', () => [...received.values()].reduce((a, s) => a + s.length, 0) >= PACKETS * CONSUMERS, 20_000);

    const ssrcs = consumers.map((c) => c.rtpParameters.encodings![0]!.ssrc!);
    assert.equal(new Set(ssrcs).size, CONSUMERS);
    for (const ssrc of ssrcs) {
      const seqs = received.get(ssrc) ?? [];
      assert.equal(seqs.length, PACKETS, `consumer ${ssrc}: every packet once`);
      for (let i = 1; i < seqs.length; i++) assert.equal((seqs[i]! - seqs[i - 1]! + 65536) % 65536, 1, `consumer ${ssrc}: in order`);
    }

    const detached = new Promise((resolve) => strace!.once('exit', resolve));
    strace!.kill('SIGINT');
    await detached;
    await waitFor('the strace summary', async () => /total/.test(await fs.readFile(trace, 'utf8')), 10_000);
    const counts = syscallCounts(await fs.readFile(trace, 'utf8'));
    const batched = counts.get('sendmmsg') ?? 0;
    const single = (counts.get('sendmsg') ?? 0) + (counts.get('sendto') ?? 0);
    const datagrams = PACKETS * CONSUMERS;
    assert.ok(batched > 0, `the worker used sendmmsg (system calls: ${JSON.stringify([...counts])})`);
    assert.ok(batched + single <= datagrams / 2, `at least two datagrams a system call on average: ${batched} sendmmsg + ${single} single sends for ${datagrams} RTP datagrams`);
  });
});
