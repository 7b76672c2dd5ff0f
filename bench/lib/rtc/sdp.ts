/**
 * Just enough SDP for the bots against SFUs that speak it (LiveKit, Janus): a publishing offer as a browser writes
 * it (Opus, VP8 with rid simulcast q/h/f, mid + rid + transport-cc header extensions, BUNDLE, rtcp-mux), an answer
 * that receives whatever audio/video the SFU offers (data channels refused), and a reader for the remote side's ICE,
 * DTLS, payload types and header extensions.
 */
import type { IceCandidateInfo, LocalParameters, RemoteParameters } from './transport.js';

export const EXT = {
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  twcc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
} as const;
export const OFFER_EXT_IDS = { mid: 1, rid: 2, twcc: 3 } as const;
export const PT = { opus: 111, vp8: 96 } as const;

export interface RemoteMedia {
  mid: string;
  kind: string;
  port: number;
  direction: string;
  payloads: { pt: number; codec: string }[];
  extmap: Map<string, number>;
  ssrcs: number[];
}
export interface RemoteSdp {
  transport: RemoteParameters;
  media: RemoteMedia[];
}

/** Session-level lines; ICE credentials and fingerprint here too, so that an answer refusing every section is valid. */
function session(local: LocalParameters, mids: string[]): string[] {
  return ['v=0', `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0', ...(mids.length ? [`a=group:BUNDLE ${mids.join(' ')}`] : []),
    'a=msid-semantic: WMS', 'a=extmap-allow-mixed', `a=ice-ufrag:${local.ice.usernameFragment}`, `a=ice-pwd:${local.ice.password}`,
    ...local.fingerprints.map((f) => `a=fingerprint:${f.algorithm} ${f.value.toUpperCase()}`)];
}
function transportLines(local: LocalParameters, setup: string, withCandidates: boolean): string[] {
  const lines = [
    'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', `a=ice-ufrag:${local.ice.usernameFragment}`, `a=ice-pwd:${local.ice.password}`,
    ...local.fingerprints.map((f) => `a=fingerprint:${f.algorithm} ${f.value.toUpperCase()}`), `a=setup:${setup}`,
  ];
  if (withCandidates) {
    for (const c of local.candidates) lines.push(`a=candidate:${c.foundation} 1 udp ${c.priority} ${c.ip} ${c.port} typ ${c.type}`);
    lines.push('a=end-of-candidates');
  }
  return lines;
}

/** A browser-like publishing offer: audio (mid 0) and simulcast video (mid 1) with the given track ids. */
export function publishOffer(local: LocalParameters, o: { streamId: string; audioTrackId: string; videoTrackId: string; rids: string[]; audioSsrc: number }): string {
  const exts = [`a=extmap:${OFFER_EXT_IDS.mid} ${EXT.mid}`, `a=extmap:${OFFER_EXT_IDS.twcc} ${EXT.twcc}`];
  const lines = [
    ...session(local, ['0', '1']),
    `m=audio 9 UDP/TLS/RTP/SAVPF ${PT.opus}`, ...transportLines(local, 'actpass', true), 'a=mid:0', ...exts, 'a=sendonly',
    `a=msid:${o.streamId} ${o.audioTrackId}`, 'a=rtcp-mux', `a=rtpmap:${PT.opus} opus/48000/2`, `a=rtcp-fb:${PT.opus} transport-cc`,
    `a=fmtp:${PT.opus} minptime=10;useinbandfec=1`, `a=ssrc:${o.audioSsrc} cname:${o.streamId}`, `a=ssrc:${o.audioSsrc} msid:${o.streamId} ${o.audioTrackId}`,
    `m=video 9 UDP/TLS/RTP/SAVPF ${PT.vp8}`, ...transportLines(local, 'actpass', true), 'a=mid:1', ...exts,
    `a=extmap:${OFFER_EXT_IDS.rid} ${EXT.rid}`, 'a=sendonly', `a=msid:${o.streamId} ${o.videoTrackId}`, 'a=rtcp-mux', 'a=rtcp-rsize',
    `a=rtpmap:${PT.vp8} VP8/90000`, `a=rtcp-fb:${PT.vp8} transport-cc`, `a=rtcp-fb:${PT.vp8} ccm fir`, `a=rtcp-fb:${PT.vp8} nack`,
    `a=rtcp-fb:${PT.vp8} nack pli`,
    ...o.rids.map((r) => `a=rid:${r} send`), `a=simulcast:send ${o.rids.join(';')}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * An answer receiving every audio/video section of `offer` (Opus / VP8 only). A data channel section is accepted
 * (so that the transport exists even when nothing else is offered yet) but never used: the bot runs no SCTP.
 */
export function receiveAnswer(local: LocalParameters, offer: RemoteSdp): string {
  const dataOk = (m: RemoteMedia): boolean => m.kind === 'application' && m.port !== 0;
  const lines = session(local, offer.media.filter((m) => m.port !== 0 && (pickPayload(m) !== null || dataOk(m))).map((m) => m.mid));
  for (const m of offer.media) {
    const p = pickPayload(m);
    if (dataOk(m)) {
      lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', ...transportLines(local, 'active', true), `a=mid:${m.mid}`,
        'a=sctp-port:5000', 'a=max-message-size:262144');
      continue;
    }
    if (m.port === 0 || p === null) {
      const proto = m.kind === 'application' ? 'UDP/DTLS/SCTP webrtc-datachannel' : `UDP/TLS/RTP/SAVPF ${m.payloads[0]?.pt ?? 0}`;
      lines.push(`m=${m.kind} 0 ${proto}`, 'c=IN IP4 0.0.0.0', `a=mid:${m.mid}`, 'a=inactive');
      continue;
    }
    const dir = m.direction === 'sendonly' || m.direction === 'sendrecv' ? 'recvonly' : 'inactive';
    lines.push(`m=${m.kind} 9 UDP/TLS/RTP/SAVPF ${p.pt}`, ...transportLines(local, 'active', true), `a=mid:${m.mid}`);
    for (const uri of [EXT.mid, EXT.twcc]) {
      const id = m.extmap.get(uri);
      if (id) lines.push(`a=extmap:${id} ${uri}`);
    }
    lines.push(`a=${dir}`, 'a=rtcp-mux', 'a=rtcp-rsize', `a=rtpmap:${p.pt} ${p.codec}`);
    const fbs = m.kind === 'video' ? ['transport-cc', 'ccm fir', 'nack', 'nack pli'] : ['transport-cc'];
    for (const fb of fbs) lines.push(`a=rtcp-fb:${p.pt} ${fb}`);
    if (m.kind === 'audio') lines.push(`a=fmtp:${p.pt} minptime=10;useinbandfec=1`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function pickPayload(m: RemoteMedia): { pt: number; codec: string } | null {
  if (m.kind === 'audio') return m.payloads.find((p) => /^opus\//i.test(p.codec)) ?? null;
  if (m.kind === 'video') return m.payloads.find((p) => /^vp8\//i.test(p.codec)) ?? null;
  return null;
}

/** Parses one SDP candidate line's value (`candidate:...` or without the prefix). */
export function parseCandidate(line: string): IceCandidateInfo | null {
  const f = line.replace(/^a=/, '').replace(/^candidate:/, '').trim().split(/\s+/);
  if (f.length < 8) return null;
  return { foundation: f[0]!, priority: Number(f[3]), ip: f[4]!, port: Number(f[5]), protocol: f[2]!.toLowerCase() as 'udp' | 'tcp', type: f[7]! };
}

export function parseSdp(sdp: string): RemoteSdp {
  const lines = sdp.split(/\r?\n/).filter(Boolean);
  let ufrag = '', pwd = '', setup = 'actpass', iceLite = false;
  const fingerprints: { algorithm: string; value: string }[] = [];
  const candidates: IceCandidateInfo[] = [];
  const media: RemoteMedia[] = [];
  let cur: RemoteMedia | null = null;
  const rtpmap = new Map<number, string>();
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const [kind, port, , ...pts] = l.slice(2).split(' ');
      cur = { mid: String(media.length), kind: kind!, port: Number(port), direction: 'sendrecv', payloads: pts.map((p) => ({ pt: Number(p), codec: '' })), extmap: new Map(), ssrcs: [] };
      media.push(cur);
      continue;
    }
    if (l === 'a=ice-lite') iceLite = true;
    else if (l.startsWith('a=ice-ufrag:')) ufrag ||= l.slice(12);
    else if (l.startsWith('a=ice-pwd:')) pwd ||= l.slice(10);
    else if (l.startsWith('a=fingerprint:')) {
      const [algorithm, value] = l.slice(14).split(' ');
      if (!fingerprints.some((f) => f.value === value)) fingerprints.push({ algorithm: algorithm!.toLowerCase(), value: value!.toUpperCase() });
    } else if (l.startsWith('a=setup:')) setup = l.slice(8);
    else if (l.startsWith('a=candidate:')) {
      const c = parseCandidate(l);
      if (c && !candidates.some((x) => x.ip === c.ip && x.port === c.port && x.protocol === c.protocol)) candidates.push(c);
    } else if (cur) {
      if (l.startsWith('a=mid:')) cur.mid = l.slice(6);
      else if (/^a=(sendonly|recvonly|sendrecv|inactive)$/.test(l)) cur.direction = l.slice(2);
      else if (l.startsWith('a=rtpmap:')) {
        const [pt, codec] = l.slice(9).split(' ');
        rtpmap.set(Number(pt), codec!);
        const p = cur.payloads.find((x) => x.pt === Number(pt));
        if (p) p.codec = codec!;
      } else if (l.startsWith('a=extmap:')) {
        const [id, uri] = l.slice(9).split(' ');
        cur.extmap.set(uri!, Number(id!.split('/')[0]));
      } else if (l.startsWith('a=ssrc:')) {
        const ssrc = Number(l.slice(7).split(' ')[0]);
        if (!cur.ssrcs.includes(ssrc)) cur.ssrcs.push(ssrc);
      }
    }
  }
  // our role follows theirs: their 'active' makes us the DTLS server; 'passive' or 'actpass' (we answer 'active') the client
  const remoteDtlsRole = setup === 'active' ? 'client' : 'server';
  return { transport: { ice: { usernameFragment: ufrag, password: pwd, iceLite }, candidates, fingerprints, remoteDtlsRole }, media };
}
