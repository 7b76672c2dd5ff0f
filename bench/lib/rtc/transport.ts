/**
 * One bot's WebRTC transport: ICE (full agent, UDP on 127.0.0.1 only), DTLS and SRTP from werift's ORTC-style
 * classes, without werift's peer connection: the bot writes and reads RTP itself (see sender.ts, receiver.ts), and
 * the SFU adapters turn these parameters into what each server wants (mediasoup parameters or SDP).
 */
import {
  RTCDtlsFingerprint,
  RTCDtlsParameters,
  RTCDtlsTransport,
  RTCIceGatherer,
  RTCIceParameters,
  RTCIceTransport,
  RTCSctpTransport,
  RtpHeader,
  candidateFromSdp,
  type RtcpPacket,
  type RtpPacket,
} from 'werift';

export interface IceCandidateInfo {
  foundation: string;
  priority: number;
  ip: string;
  port: number;
  protocol: 'udp' | 'tcp';
  type: string;
}
export interface LocalParameters {
  ice: { usernameFragment: string; password: string };
  candidates: IceCandidateInfo[];
  fingerprints: { algorithm: string; value: string }[];
}
export interface RemoteParameters {
  ice: { usernameFragment: string; password: string; iceLite?: boolean };
  candidates: IceCandidateInfo[];
  fingerprints: { algorithm: string; value: string }[];
  /** The remote's DTLS role; ours is the other one. */
  remoteDtlsRole: 'client' | 'server';
}

/** Where bots bind and what they advertise: loopback, or the run's own namespace address (BENCH_BIND_IP, see run.ts). */
const LOOPBACK = process.env.BENCH_BIND_IP ?? '127.0.0.1';
const SRTP_AEAD_AES_128_GCM = 0x0007;
const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;

/** A raw RTCP packet (already serialized) in the shape werift's sendRtcp takes. */
export function rawRtcp(buf: Buffer): RtcpPacket {
  return { serialize: () => buf } as unknown as RtcpPacket;
}

export class BotTransport {
  readonly dtls: RTCDtlsTransport;
  private readonly ice: RTCIceTransport;
  private readonly gatherer: RTCIceGatherer;
  private rtpListener: ((p: RtpPacket) => void) | null = null;
  private rtcpListener: ((p: RtcpPacket) => void) | null = null;
  closed = false;
  /** Failed sends (e.g. the socket closed under us): counted, not thrown. */
  sendErrors = 0;
  private twccSeq = 0;

  private constructor(controlling: boolean, srtpProfile: 'gcm' | 'cm') {
    // werift leaves loopback out of its host addresses: add it, bind every socket to it, and advertise only it
    this.gatherer = new RTCIceGatherer({
      interfaceAddresses: { udp4: LOOPBACK },
      additionalHostAddresses: [LOOPBACK],
      useIpv4: true,
      useIpv6: false,
      useTcp: false,
      tcpPassive: false,
      stunGatherTimeout: 0,
    });
    this.gatherer.connection.iceControlling = controlling;
    this.ice = new RTCIceTransport(this.gatherer);
    const profiles = srtpProfile === 'gcm' ? [SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_80] : [SRTP_AES128_CM_HMAC_SHA1_80];
    this.dtls = new RTCDtlsTransport({}, this.ice, RTCDtlsTransport.localCertificate, profiles as never);
    this.dtls.onRtp.subscribe((p) => this.rtpListener?.(p));
    this.dtls.onRtcp.subscribe((p) => this.rtcpListener?.(p));
  }

  /** Gathers loopback host candidates. `controlling`: our ICE role (the offerer's, or against an ICE-lite server). */
  static async create(opts: { controlling: boolean; srtp?: 'gcm' | 'cm' }): Promise<BotTransport> {
    if (!RTCDtlsTransport.localCertificate) await RTCDtlsTransport.SetupCertificate();
    const t = new BotTransport(opts.controlling, opts.srtp ?? (process.env.BENCH_SRTP === 'cm' ? 'cm' : 'gcm'));
    await t.gatherer.gather();
    // a browser's socket buffers are large; the default (208 KiB) overflows while a busy bot process waits for a core
    for (const p of (t.gatherer.connection as unknown as { protocols: { transport?: { socket?: import('node:dgram').Socket } }[] }).protocols) {
      try {
        p.transport?.socket?.setRecvBufferSize(4 * 2 ** 20);
        p.transport?.socket?.setSendBufferSize(2 * 2 ** 20);
      } catch { /* capped by net.core.rmem_max: keep what we got */ }
    }
    return t;
  }

  get local(): LocalParameters {
    const p = this.gatherer.localParameters;
    return {
      ice: { usernameFragment: p.usernameFragment, password: p.password },
      candidates: this.gatherer.localCandidates.filter((c) => c.ip === LOOPBACK).slice(0, 1).map((c) => ({
        foundation: c.foundation.replace(/^candidate:/, ''), priority: c.priority, ip: c.ip, port: c.port, protocol: 'udp', type: c.type,
      })),
      fingerprints: this.dtls.localParameters.fingerprints.map((f) => ({ algorithm: f.algorithm, value: f.value })),
    };
  }

  set controlling(v: boolean) {
    this.gatherer.connection.iceControlling = v;
  }

  onRtp(fn: (p: RtpPacket) => void): void {
    this.rtpListener = fn;
  }
  onRtcp(fn: (p: RtcpPacket) => void): void {
    this.rtcpListener = fn;
  }

  /**
   * Connects ICE then DTLS; resolves when SRTP keys are in place. Only loopback candidates are ever used.
   * `beforeDtls`: DTLS starts only once it resolves (e.g. the server has our fingerprint), while ICE runs already.
   */
  async connect(remote: RemoteParameters, timeoutMs = 20_000, beforeDtls?: Promise<unknown>): Promise<void> {
    const ours = remote.remoteDtlsRole === 'client' ? 'server' : 'client';
    this.ice.setRemoteParams(new RTCIceParameters({
      usernameFragment: remote.ice.usernameFragment, password: remote.ice.password, iceLite: remote.ice.iceLite ?? false,
    }));
    for (const c of remote.candidates) {
      if (c.protocol !== 'udp' || !c.ip.startsWith('127.')) continue;
      await this.ice.addRemoteCandidate(candidateFromSdp(
        `candidate:${c.foundation} 1 udp ${c.priority} ${c.ip} ${c.port} typ ${c.type}`,
      ) as never);
    }
    await this.ice.addRemoteCandidate(undefined);
    this.dtls.setRemoteParams(new RTCDtlsParameters(remote.fingerprints.map((f) => new RTCDtlsFingerprint(f.algorithm, f.value)), ours));
    this.dtls.role = ours;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`ICE/DTLS not connected in ${timeoutMs} ms (ice ${this.ice.state}, dtls ${this.dtls.state})`)), timeoutMs);
    });
    try {
      await Promise.race([(async () => {
        await this.ice.start();
        await beforeDtls;
        await this.dtls.start();
      })(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.dtls.state !== 'connected') throw new Error(`DTLS ${this.dtls.state}`);
  }

  /** Transport-wide sequence number for the next packet sent on this transport. */
  nextTwccSeq(): number {
    this.twccSeq = (this.twccSeq + 1) & 0xffff;
    return this.twccSeq;
  }

  sendRtp(header: RtpHeader, payload: Buffer): void {
    if (this.closed || this.dtls.state !== 'connected') return;
    this.dtls.sendRtp(payload, header).catch(() => { this.sendErrors++; });
  }

  sendRtcp(packets: RtcpPacket[]): void {
    if (this.closed || this.dtls.state !== 'connected' || packets.length === 0) return;
    this.dtls.sendRtcp(packets).catch(() => { this.sendErrors++; });
  }

  private sctp: RTCSctpTransport | null = null;

  /**
   * Runs SCTP over the DTLS transport and accepts the data channels the server opens (LiveKit counts a participant
   * as active only once its data channels are open). The bot never uses them.
   */
  async startSctp(remotePort = 5000): Promise<void> {
    if (this.sctp) return;
    this.sctp = new RTCSctpTransport(5000);
    this.sctp.setDtlsTransport(this.dtls);
    await this.sctp.start(remotePort);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sctp?.stop().catch(() => undefined);
    this.rtpListener = null;
    this.rtcpListener = null;
    await this.dtls.stop().catch(() => undefined);
    await this.ice.stop().catch(() => undefined);
  }
}

export { RtpHeader };
