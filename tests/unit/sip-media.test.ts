/**
 * The SIP gateway's media pieces, without I/O: RTP with the audio-level extension, RFC 4733 DTMF (against SIPp's own
 * recordings), the jitter buffer, choosing and mixing the loudest speakers, concealment, G.711 and Opus round trips,
 * the SDP offer/answer, and who may dial in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { canControl, decideJoin } from '../../control/src/meetings/policy.js';
import { phoneMayDialIn } from '../../control/src/phone/policy.js';
import { canProduce, canUsePlainTransport } from '../../edge-node/src/decisions/permissions.js';
import { maskCaller, PhoneJoinRequest } from '../../edge-node/protocol/phone.js';
import { answerSdp, parseOffer } from '../../edge-node/sip/gateway.js';
import { decodeG711, encodeG711 } from '../../edge-node/sip/g711.js';
import { JitterBuffer } from '../../edge-node/sip/jitter.js';
import { concealFrame, mixFrames, pickLoudest } from '../../edge-node/sip/mix.js';
import { OpusCodec } from '../../edge-node/sip/opus.js';
import { audioLevelOf, buildRtp, DtmfDetector, isRtcp, levelOfPcm, parseRtp, rtcpReceiverReport } from '../../edge-node/sip/rtp.js';
import { SIPP_PCAP_DIR } from '../helpers/sip.js';

function tone(n: number, amplitude: number, hz = 440, rate = 8000, from = 0): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (from + i)) / rate));
  return out;
}
const meanAbs = (x: Int16Array) => x.reduce((s, v) => s + Math.abs(v), 0) / x.length;

/** RTP packets of a pcap file (Ethernet, IPv4, UDP). */
function pcapRtp(file: string): Buffer[] {
  const b = fs.readFileSync(file);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off + 8);
    const frame = b.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    const ihl = (frame[14]! & 15) * 4;
    out.push(frame.subarray(14 + ihl + 8));
  }
  return out;
}

describe('RTP', () => {
  test('builds and parses a packet with the audio level', () => {
    const pkt = buildRtp({ payloadType: 100, marker: true, sequenceNumber: 65535, timestamp: 4294967295, ssrc: 1234, payload: Buffer.from([1, 2, 3]), audioLevel: { id: 10, level: 42, voice: true } });
    const p = parseRtp(pkt)!;
    assert.deepEqual([p.payloadType, p.marker, p.sequenceNumber, p.timestamp, p.ssrc], [100, true, 65535, 4294967295, 1234]);
    assert.deepEqual([...p.payload], [1, 2, 3]);
    assert.equal(audioLevelOf(p, 10), 42);
    assert.equal(audioLevelOf(p, 3), 127, 'another id: unknown level');
  });

  test('refuses garbage and tells RTCP apart', () => {
    assert.equal(parseRtp(Buffer.alloc(5)), null);
    assert.equal(parseRtp(Buffer.from([0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'version 0');
    assert.equal(parseRtp(Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9])), null, 'extension past the end');
    assert.ok(isRtcp(rtcpReceiverReport(7)));
    assert.equal(parseRtp(rtcpReceiverReport(7)), null);
  });

  test('level of PCM: silence 127, full scale near 0', () => {
    assert.equal(levelOfPcm(new Int16Array(160)), 127);
    assert.ok(levelOfPcm(tone(160, 32000)) <= 4);
    assert.ok(Math.abs(levelOfPcm(tone(160, 3276)) - 23) <= 1, '-20 dBFS peak is about -23 dBov RMS');
  });
});

describe('DTMF (RFC 4733) from SIPp\'s recordings', () => {
  test('each key counts once, even the same key twice in a row', () => {
    const det = new DtmfDetector();
    const keys: string[] = [];
    for (const k of ['1', '1', '9', 'pound', 'star', '0']) {
      for (const raw of pcapRtp(`${SIPP_PCAP_DIR}/dtmf_2833_${k}.pcap`)) {
        const d = det.push(parseRtp(raw)!);
        if (d) keys.push(d);
      }
    }
    assert.deepEqual(keys.join(''), '119#*0');
  });
});

describe('jitter buffer', () => {
  const frame = (n: number) => ({ payload: Buffer.from([n]), level: 30 });
  test('waits for its depth, reorders, reports a loss, drops late packets', () => {
    const j = new JitterBuffer(3);
    j.push(10, frame(10));
    j.push(12, frame(12));
    assert.equal(j.pop(), undefined, 'still buffering');
    j.push(11, frame(11));
    assert.deepEqual([j.pop()?.payload[0], j.pop()?.payload[0], j.pop()?.payload[0]], [10, 11, 12]);
    j.push(14, frame(14));
    j.push(15, frame(15));
    assert.equal(j.pop(), null, '13 is lost');
    j.push(13, frame(13));
    assert.equal(j.late, 1);
    assert.equal(j.pop()?.payload[0], 14);
  });
  test('across the sequence number wrap', () => {
    const j = new JitterBuffer(2);
    j.push(65535, frame(1));
    j.push(0, frame(2));
    assert.deepEqual([j.pop()?.payload[0], j.pop()?.payload[0]], [1, 2]);
  });
});

describe('mixing', () => {
  test('the loudest few, silent streams never', () => {
    const levels = [{ id: 'a', level: 40 }, { id: 'b', level: 10 }, { id: 'c', level: 127 }, { id: 'd', level: 25 }, { id: 'e', level: 60 }];
    assert.deepEqual(pickLoudest(levels, 3), ['b', 'd', 'a']);
    assert.deepEqual(pickLoudest(levels, 10), ['b', 'd', 'a', 'e']);
    assert.deepEqual(pickLoudest([{ id: 'c', level: 127 }], 3), []);
  });
  test('sums with saturation; concealment fades', () => {
    const m = mixFrames([Int16Array.from([30000, -30000, 5]), Int16Array.from([10000, -10000, 6])], 3);
    assert.deepEqual([...m], [32767, -32768, 11]);
    assert.deepEqual([...concealFrame(Int16Array.from([100, -100]), 1)], [50, -50]);
    assert.deepEqual([...concealFrame(Int16Array.from([100, -100]), 2)], [25, -25]);
  });
});

describe('codecs', () => {
  test('G.711 A-law and mu-law round trips', () => {
    const pcm = tone(160, 8000);
    for (const c of ['PCMA', 'PCMU'] as const) {
      const back = decodeG711(c, encodeG711(c, pcm));
      assert.ok(back.every((v, i) => Math.abs(v - pcm[i]!) < 300), c);
    }
  });
  test('Opus at 8 kHz keeps a tone, with many codecs alive at once', () => {
    const many = Array.from({ length: 60 }, () => new OpusCodec(8000, 5)); // grows the WebAssembly memory
    const enc = new OpusCodec(8000, 5);
    const dec = new OpusCodec(8000);
    let last: Int16Array = new Int16Array(0);
    for (let f = 0; f < 15; f++) last = dec.decode(enc.encode(tone(160, 8000, 440, 8000, f * 160)), 160);
    assert.equal(last.length, 160);
    assert.ok(Math.abs(meanAbs(last) - meanAbs(tone(160, 8000))) < 1200, `decoded level ${meanAbs(last)}`);
    for (const c of [...many, enc, dec]) c.close();
    assert.throws(() => new OpusCodec(8000).decode(Buffer.alloc(0), 160), /size/);
  });
});

describe('SDP', () => {
  const invite = (sdp: string) => ({ headers: { 'content-type': 'application/sdp' }, content: sdp });
  test('takes the caller\'s first G.711 and its telephone-event type', () => {
    const o = parseOffer(invite('v=0\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n'));
    assert.deepEqual(o, { ip: '192.0.2.5', port: 4000, codec: 'PCMA', dtmf: 96 });
    assert.equal(parseOffer(invite('v=0\r\nm=audio 4000 RTP/AVP 18\r\n')), null, 'no G.711: 488');
    assert.equal(parseOffer({ headers: {}, content: 'junk' }), null);
    const a = answerSdp('198.51.100.1', 30000, 'PCMA', 96);
    assert.match(a, /m=audio 30000 RTP\/AVP 8 96\r\n/);
    assert.match(a, /a=rtpmap:96 telephone-event\/8000/);
  });
});

describe('who may dial in, and how callers are shown', () => {
  test('phone policy', () => {
    assert.equal(phoneMayDialIn({ access: 'link', hasPasscode: false, webinar: false }).ok, true);
    assert.equal(phoneMayDialIn({ access: 'invited', hasPasscode: false, webinar: false }).ok, false);
    assert.equal(phoneMayDialIn({ access: 'invited', hasPasscode: true, webinar: false }).ok, true);
    assert.equal(phoneMayDialIn({ access: 'link', hasPasscode: true, webinar: true }).ok, false);
  });
  test('phone callers have no host controls; hosts may mute and remove them but never make them co-hosts', () => {
    for (const control of ['mute', 'remove', 'admit', 'deny'] as const) assert.equal(canControl('host', control, 'phone').ok, true, control);
    assert.equal(canControl('cohost', 'remove', 'phone').ok, true);
    assert.equal(canControl('host', 'makeCohost', 'phone').ok, false);
    assert.equal(canControl('phone', 'mute', 'participant').ok, false);
    const facts = { role: 'phone' as const, status: 'live' as const, locked: false, state: null, waitingRoom: true, hasPasscode: false,
      passcodeOk: true, passcodeLockedOut: false, admittedOthers: 1, maxParticipants: 10 };
    assert.deepEqual(decideJoin(facts), { outcome: 'wait' });
    assert.equal(decideJoin({ ...facts, locked: true }).outcome, 'refuse');
  });
  test('phone role on the node: microphone only, and the only role with plain transports', () => {
    assert.equal(canProduce('phone', 'mic'), true);
    assert.equal(canProduce('phone', 'camera'), false);
    assert.equal(canProduce('phone', 'screen'), false);
    assert.equal(canUsePlainTransport('phone'), true);
    for (const r of ['host', 'cohost', 'panelist', 'participant', 'attendee'] as const) assert.equal(canUsePlainTransport(r), false);
  });
  test('masked numbers; callers cannot smuggle text', () => {
    assert.equal(maskCaller('+1 (555) 010-4321'), 'Phone ••• 4321');
    assert.equal(maskCaller('anonymous'), 'Phone caller');
    assert.equal(PhoneJoinRequest.safeParse({ pin: '123456', passcode: '', caller: '<script>' }).success, false);
    assert.equal(PhoneJoinRequest.safeParse({ pin: '12ab', passcode: '', caller: '' }).success, false);
  });
});
