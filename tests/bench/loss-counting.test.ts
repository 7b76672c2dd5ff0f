/**
 * How the bots count loss (bench/lib/rtc/receiver.ts) and read the kernel's drops on their sockets
 * (bench/lib/udp-drops.ts): the figures that end a capacity ramp. Pure logic, fed packets directly.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { GenericNack, RtcpTransportLayerFeedback, RtpHeader, RtpPacket, type RtcpPacket } from 'werift';
import { MediaReceiver } from '../../bench/lib/rtc/receiver.js';
import type { BotTransport } from '../../bench/lib/rtc/transport.js';
import { parseProcNetUdp } from '../../bench/lib/udp-drops.js';
import { waitFor } from '../helpers/edge.js';

const OPUS = 111;
const VP8 = 96;

/** A receiver whose RTCP goes into a list instead of a socket. */
function receiver(): { rx: MediaReceiver; rtcp: RtcpPacket[] } {
  const rtcp: RtcpPacket[] = [];
  const transport = { sendRtcp: (p: RtcpPacket[]) => rtcp.push(...p) } as unknown as BotTransport;
  const rx = new MediaReceiver(transport, undefined);
  rx.setVideoPayloadTypes([VP8]);
  after(() => rx.stop());
  return { rx, rtcp };
}

const packet = (ssrc: number, seq: number, pt = OPUS, payload = Buffer.from([0xfc, 1, 2, 3])): RtpPacket =>
  new RtpPacket(new RtpHeader({ ssrc, sequenceNumber: seq & 0xffff, timestamp: seq * 960, payloadType: pt }), payload);

test('packets in order, across the sequence number wrap: nothing lost', () => {
  const { rx } = receiver();
  for (let seq = 65530; seq < 65550; seq++) rx.handleRtp(packet(1, seq));
  const t = rx.totals();
  assert.equal(t.packets, 20);
  assert.equal(t.expected, 20);
  assert.equal(t.lost, 0);
});

test('a gap is NACKed, counted lost by kind once the receiver gives up, and a late arrival is received after all', async () => {
  const { rx, rtcp } = receiver();
  for (const seq of [10, 11, 14, 15]) rx.handleRtp(packet(7, seq));
  assert.equal(rx.totals().lost, 0, 'not lost while a retransmission may still come');
  const nack = await waitFor('a NACK for 12 and 13', () => rtcp.find((p): p is RtcpTransportLayerFeedback =>
    p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack && p.feedback.mediaSourceSsrc === 7), 5000, 10);
  assert.deepEqual([...(nack.feedback as GenericNack).lost].sort(), [12, 13]);
  const gaveUp = await waitFor('the receiver to give up on 12 and 13', () => (rx.totals().lost === 2 ? rx.totals() : null), 5000, 20);
  assert.equal(gaveUp.lostAudio, 2);
  assert.equal(gaveUp.lostVideo, 0);
  // 13 arrives after all (a retransmission that waited in a starved process's socket): received, not lost, not a duplicate
  rx.handleRtp(packet(7, 13));
  const t = rx.totals();
  assert.equal(t.late, 1);
  assert.equal(t.lost, 1);
  assert.equal(t.packets, 5);
  assert.equal(t.duplicates, 0);
  rx.handleRtp(packet(7, 13));
  assert.equal(rx.totals().duplicates, 1, 'the same packet again is a duplicate');
});

test('video loss is counted as video; padding-only packets (bandwidth probes) are counted apart', async () => {
  const { rx } = receiver();
  for (const seq of [1, 2, 4]) rx.handleRtp(packet(9, seq, VP8));
  rx.handleRtp(packet(9, 5, VP8, Buffer.alloc(0)));
  const t = await waitFor('the video gap to count as lost', () => (rx.totals().lost === 1 ? rx.totals() : null), 5000, 20);
  assert.equal(t.lostVideo, 1);
  assert.equal(t.lostAudio, 0);
  assert.equal(t.padding, 1);
  assert.equal(t.packets, 4);
});

test('/proc/net/udp: inode, receive queue and drops of each socket', () => {
  const text = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ',
    ' 1741: 0100007F:A27A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1187090 2 000000003b19b57f 0       ',
    ' 2356: 0100007F:E4E1 0100007F:1F90 01 00000000:00034000 00:00000000 00000000     0        0 1188987 2 000000003d5bbbf3 1234    ',
    'garbage',
    '',
  ].join('\n');
  assert.deepEqual(parseProcNetUdp(text), [
    { inode: '1187090', rxQueue: 0, drops: 0 },
    { inode: '1188987', rxQueue: 0x34000, drops: 1234 },
  ]);
});
