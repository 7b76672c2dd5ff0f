/** Pure parts of the bench's bots: the SDP they write and read, and the parsers of the media files encoded at setup. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIvf, parseOggOpus } from '../../bench/lib/media.js';
import { EXT, parseSdp, publishOffer, receiveAnswer } from '../../bench/lib/rtc/sdp.js';
import type { LocalParameters } from '../../bench/lib/rtc/transport.js';

const local: LocalParameters = {
  ice: { usernameFragment: 'ufragA', password: 'passwordA' },
  candidates: [{ foundation: 'f1', priority: 100, ip: '127.0.0.1', port: 5000, protocol: 'udp', type: 'host' }],
  fingerprints: [{ algorithm: 'sha-256', value: 'aa:bb' }],
};

test('the publishing offer declares rid simulcast, the audio SSRC and our candidate', () => {
  const sdp = publishOffer(local, { streamId: 's', audioTrackId: 'a', videoTrackId: 'v', rids: ['q', 'h', 'f'], audioSsrc: 1234 });
  assert.match(sdp, /a=simulcast:send q;h;f\r\n/);
  assert.match(sdp, /a=rid:f send/);
  assert.match(sdp, /a=ssrc:1234 msid:s a/);
  assert.match(sdp, /a=candidate:f1 1 udp 100 127\.0\.0\.1 5000 typ host/);
  assert.match(sdp, /a=setup:actpass/);
  const parsed = parseSdp(sdp);
  assert.deepEqual(parsed.media.map((m) => [m.mid, m.kind, m.direction]), [['0', 'audio', 'sendonly'], ['1', 'video', 'sendonly']]);
  assert.equal(parsed.transport.ice.usernameFragment, 'ufragA');
  assert.equal(parsed.transport.fingerprints[0]!.value, 'AA:BB');
});

const remoteOffer = [
  'v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2', 'a=ice-lite',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:0', 'a=ice-ufrag:U', 'a=ice-pwd:P', 'a=fingerprint:sha-256 cc:dd', 'a=setup:actpass',
  'a=candidate:1 1 udp 2015363327 127.0.0.1 53070 typ host', 'a=candidate:2 1 udp 2015363583 fd00::2 53861 typ host', 'a=sctp-port:5000',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'a=mid:1', 'a=sendonly', 'a=rtpmap:111 opus/48000/2', 'a=rtpmap:0 PCMU/8000', `a=extmap:4 ${EXT.twcc}`, 'a=ssrc:77 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 102 96', 'a=mid:2', 'a=sendonly', 'a=rtpmap:102 H264/90000', 'a=rtpmap:96 VP8/90000', `a=extmap:5 ${EXT.twcc}`, `a=extmap:9 ${EXT.mid}`,
  '',
].join('\r\n');

test('the remote side is read: ICE-lite, candidates, DTLS role, payload types, extensions, SSRCs', () => {
  const r = parseSdp(remoteOffer);
  assert.equal(r.transport.ice.iceLite, true);
  assert.deepEqual(r.transport.candidates.map((c) => `${c.ip}:${c.port}`), ['127.0.0.1:53070', 'fd00::2:53861']);
  assert.equal(r.transport.remoteDtlsRole, 'server', 'an actpass offerer is the DTLS server of our active answer');
  assert.equal(r.media[2]!.extmap.get(EXT.twcc), 5);
  assert.deepEqual(r.media[1]!.ssrcs, [77]);
  assert.equal(parseSdp(remoteOffer.replace('a=setup:actpass', 'a=setup:active')).transport.remoteDtlsRole, 'client');
});

test('the answer receives Opus and VP8 on the offered mids and payload types, and accepts the data section', () => {
  const a = answerLines(receiveAnswer(local, parseSdp(remoteOffer)));
  assert.ok(a.includes('a=group:BUNDLE 0 1 2'));
  assert.ok(a.includes('m=application 9 UDP/DTLS/SCTP webrtc-datachannel'));
  assert.ok(a.includes('m=audio 9 UDP/TLS/RTP/SAVPF 111'));
  assert.ok(a.includes('m=video 9 UDP/TLS/RTP/SAVPF 96'), 'VP8, not the H264 listed first');
  assert.ok(a.includes(`a=extmap:5 ${EXT.twcc}`) && a.includes(`a=extmap:9 ${EXT.mid}`), 'extension ids mirror the offer');
  assert.equal(a.filter((l) => l === 'a=recvonly').length, 2);
  assert.ok(a.includes('a=setup:active'));
  assert.ok(a.includes('a=ice-ufrag:ufragA'), 'credentials at session level too');
});

function answerLines(sdp: string): string[] {
  return sdp.split('\r\n');
}

test('IVF frames and VP8 keyframes are read', () => {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(32, 6);
  const frame = (bytes: number[]): Buffer => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(bytes.length, 0);
    return Buffer.concat([h, Buffer.from(bytes)]);
  };
  const frames = parseIvf(Buffer.concat([header, frame([0x10, 1, 2]), frame([0x11, 3]), frame([0x00])]));
  assert.deepEqual(frames.map((f) => [f.data.length, f.key]), [[3, true], [2, false], [1, true]]);
  assert.throws(() => parseIvf(Buffer.from('nope')), /not an IVF/);
});

test('Ogg pages give Opus packets, laced across segments, without the two header packets', () => {
  const page = (packets: Buffer[]): Buffer => {
    const lacing: number[] = [];
    for (const p of packets) {
      let n = p.length;
      while (n >= 255) { lacing.push(255); n -= 255; }
      lacing.push(n);
    }
    const h = Buffer.alloc(27);
    h.write('OggS', 0, 'latin1');
    h[26] = lacing.length;
    return Buffer.concat([h, Buffer.from(lacing), ...packets]);
  };
  const big = Buffer.alloc(300, 7);
  const out = parseOggOpus(Buffer.concat([page([Buffer.from('OpusHead....')]), page([Buffer.from('OpusTags....')]), page([Buffer.from([1, 2, 3]), big])]));
  assert.deepEqual(out.map((p) => p.length), [3, 300]);
});
