/**
 * The SIP gateway: its own process beside the edge nodes of a region (a crash here never takes a node down). It
 * answers calls with the npm `sip` stack (RFC 3261 parsing, transactions and retransmissions over UDP/TCP), speaks
 * G.711 with RFC 4733 DTMF to callers, asks the control plane's internal phone API whom to admit, and bridges each
 * admitted caller into the meeting as a `phone` participant (see call.ts and meeting-leg.ts).
 *
 * HTTP beside it (loopback by default): `/healthz`, `/metrics` (Prometheus), `/calls` (the calls in progress).
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import client from 'prom-client';
import sip, { type SipMessage, type SipStack, type NameAddr, type Remote } from 'sip';
import sdp from 'sip/sdp.js';
import { CallerNumber } from '../protocol/phone.js';
import { PhoneCall, type CallState } from './call.js';
import { PhoneControlClient } from './control-client.js';
import type { G711 } from './g711.js';
import { DEFAULT_PROMPT_DIR, loadPrompts, type Prompts } from './prompts.js';

export interface SipGatewayOptions {
  /** SIP listening address and port (UDP and TCP). */
  sipHost: string;
  sipPort: number;
  /** Address put in Contact headers and SDP (the public one behind NAT); defaults to sipHost / rtpIp. */
  publicHost?: string;
  /** Where callers' RTP sockets bind, and the port range (one port a call). */
  rtpIp: string;
  rtpMinPort: number;
  rtpMaxPort: number;
  /** The control plane and the shared secret of its internal phone API. */
  controlUrl: string;
  secret: string;
  /** Local address for RTP towards edge nodes. */
  nodeBindIp: string;
  httpHost: string;
  /** 0 picks a free port. */
  httpPort: number;
  maxCalls: number;
  mixSpeakers: number;
  opusComplexity: number;
  promptDir: string;
  logger?: Logger;
}

export const SIP_GATEWAY_DEFAULTS = {
  sipHost: '127.0.0.1', sipPort: 5060, rtpIp: '127.0.0.1', rtpMinPort: 30000, rtpMaxPort: 30999, nodeBindIp: '127.0.0.1',
  httpHost: '127.0.0.1', httpPort: 8070, maxCalls: 200, mixSpeakers: 3, opusComplexity: 5, promptDir: DEFAULT_PROMPT_DIR,
} satisfies Partial<SipGatewayOptions>;

interface Dialog {
  call: PhoneCall;
  invite: SipMessage;
  /** Our 200 OK to the INVITE, resent until the ACK comes. */
  ok: SipMessage;
  acked: boolean;
  retransmit: NodeJS.Timeout | null;
  local: NameAddr;
  remote: NameAddr;
  remoteTarget: string;
  /** Where the INVITE came from: our requests in the dialog go back the same way (symmetric, NAT-friendly). */
  flow: Remote;
  cseq: number;
  port: number;
}

export class SipGateway {
  readonly log: Logger;
  readonly registry = new client.Registry();
  private stack: SipStack | null = null;
  private server: http.Server | null = null;
  private readonly dialogs = new Map<string, Dialog>();
  private readonly usedPorts = new Set<number>();
  private ticker: NodeJS.Timeout | null = null;
  private readonly control: PhoneControlClient;
  private readonly active: client.Gauge;
  private readonly calls: client.Counter<'outcome'>;
  private readonly joinAudio: client.Histogram;

  private constructor(readonly options: SipGatewayOptions, private readonly prompts: Prompts) {
    this.log = options.logger ?? pino({ base: { service: 'sip-gateway' } });
    this.control = new PhoneControlClient(options.controlUrl, options.secret);
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sip_' });
    this.active = new client.Gauge({ name: 'sip_calls_active', help: 'calls in progress', registers: [this.registry], collect: () => this.active.set(this.dialogs.size) });
    this.calls = new client.Counter({ name: 'sip_calls_total', help: 'calls by how they ended', labelNames: ['outcome'], registers: [this.registry] });
    this.joinAudio = new client.Histogram({
      name: 'sip_join_to_audio_seconds', help: 'from the caller\'s last menu digit to the first meeting audio sent to them',
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8], registers: [this.registry],
    });
  }

  static async start(options: SipGatewayOptions): Promise<SipGateway> {
    const gw = new SipGateway(options, await loadPrompts(options.promptDir));
    await gw.listen();
    return gw;
  }

  get httpUrl(): string {
    const a = this.server?.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  private async listen(): Promise<void> {
    const o = this.options;
    this.stack = sip.create({
      address: o.sipHost, port: o.sipPort, publicAddress: o.publicHost ?? o.sipHost, udp: true, tcp: true,
      logger: { error: (e: unknown) => this.log.warn({ err: e }, 'sip stack') },
    }, (req, remote) => {
      try {
        this.onRequest(req, remote);
      } catch (err) {
        this.log.error({ err }, 'sip request failed');
        if (req.method !== 'ACK') this.stack?.send(sip.makeResponse(req, 500, 'Server Internal Error'));
      }
    });
    const app = new Hono();
    app.get('/healthz', (c) => c.json({ status: 'ok', calls: this.dialogs.size }));
    app.get('/metrics', async (c) => {
      c.header('Content-Type', this.registry.contentType);
      return c.body(await this.registry.metrics());
    });
    app.get('/calls', (c) => c.json({ calls: [...this.dialogs.values()].map(({ call }) => ({
      callId: call.callId, state: call.state, meetingId: call.meetingId, participantId: call.participantId,
      joinToAudioMs: call.joinToAudioMs, packetsToCaller: call.packetsToCaller, packetsFromCaller: call.packetsFromCaller,
    })) }));
    const server = createAdaptorServer({ fetch: app.fetch }) as http.Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.httpPort, o.httpHost, () => resolve());
    });
    this.server = server;
    // One clock for every call: 20 ms frames, catching up (boundedly) when the event loop was late.
    let next = performance.now();
    this.ticker = setInterval(() => {
      for (let n = 0; performance.now() >= next && n < 5; n++) {
        next += 20;
        for (const d of this.dialogs.values()) d.call.tick();
      }
      if (performance.now() - next > 100) next = performance.now();
    }, 10);
    this.log.info({ sip: `${o.sipHost}:${o.sipPort}`, http: this.httpUrl }, 'sip gateway listening');
  }

  private onRequest(req: SipMessage, remote: Remote): void {
    const callId = req.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    switch (req.method) {
      case 'INVITE':
        if (dialog) return this.stack!.send(dialog.ok); // a retransmitted INVITE or a re-INVITE: same answer
        return void this.onInvite(req, remote).catch((err) => {
          this.log.error({ err }, 'cannot answer the call');
          this.stack!.send(sip.makeResponse(req, 500, 'Server Internal Error'));
        });
      case 'ACK':
        if (dialog) {
          dialog.acked = true;
          if (dialog.retransmit) clearTimeout(dialog.retransmit);
        }
        return;
      case 'BYE':
        this.stack!.send(sip.makeResponse(req, dialog ? 200 : 481, dialog ? 'OK' : 'Call/Transaction Does Not Exist'));
        if (dialog) this.end(callId, 'caller hung up');
        return;
      case 'CANCEL':
        this.stack!.send(sip.makeResponse(req, dialog ? 200 : 481, dialog ? 'OK' : 'Call/Transaction Does Not Exist'));
        return;
      case 'OPTIONS':
        return this.stack!.send(sip.makeResponse(req, 200, 'OK'));
      default:
        return this.stack!.send(sip.makeResponse(req, 405, 'Method Not Allowed'));
    }
  }

  private async onInvite(req: SipMessage, remote: Remote): Promise<void> {
    const o = this.options;
    const callId = req.headers['call-id']!;
    if (this.dialogs.size >= o.maxCalls) return this.reject(req, 486, 'Busy Here', 'busy');
    const offer = parseOffer(req);
    if (!offer) return this.reject(req, 488, 'Not Acceptable Here', 'no_codec');
    this.stack!.send(sip.makeResponse(req, 100, 'Trying'));
    const sock = await this.bindRtp();
    if (!sock) return this.reject(req, 503, 'Service Unavailable', 'no_port');
    const port = sock.address().port;
    const fromUser = sip.parseUri(req.headers.from?.uri ?? '').user ?? '';
    const caller = CallerNumber.safeParse(fromUser).success ? fromUser : '';
    const call = new PhoneCall(callId, caller, sock, { ip: offer.ip ?? remote.address, port: offer.port }, offer.codec, offer.dtmf, {
      control: this.control, prompts: this.prompts, log: this.log, nodeBindIp: o.nodeBindIp, mixSpeakers: o.mixSpeakers,
      opusComplexity: o.opusComplexity, onJoinedAudio: (ms) => this.joinAudio.observe(ms / 1000),
    });
    const local: NameAddr = { ...req.headers.to!, params: { ...req.headers.to!.params, tag: randomBytes(6).toString('hex') } };
    const host = o.publicHost ?? o.sipHost;
    const ok = sip.makeResponse(req, 200, 'OK');
    ok.headers.to = local;
    ok.headers.contact = [{ uri: `sip:gateway@${host.includes(':') ? `[${host}]` : host}:${o.sipPort}`, params: {} }];
    ok.headers['content-type'] = 'application/sdp';
    ok.content = answerSdp(o.publicHost ?? o.rtpIp, port, offer.codec, offer.dtmf);
    const dialog: Dialog = {
      call, invite: req, ok, acked: false, retransmit: null, local, remote: req.headers.from!,
      remoteTarget: req.headers.contact?.[0]?.uri ?? req.headers.from!.uri, flow: remote, cseq: 1, port,
    };
    this.dialogs.set(callId, dialog);
    call.on('hangup', (reason) => this.hangup(callId, reason));
    this.stack!.send(ok);
    let wait = 500;
    const resend = () => {
      if (dialog.acked || !this.dialogs.has(callId)) return;
      if (wait > 4000) return this.end(callId, 'no ACK');
      this.stack!.send(ok);
      dialog.retransmit = setTimeout(resend, (wait *= 2));
    };
    dialog.retransmit = setTimeout(resend, wait);
    this.log.info({ call: callId, caller: caller.replace(/.(?=.{4})/g, '•'), codec: offer.codec }, 'call answered');
    call.start();
  }

  private reject(req: SipMessage, status: number, reason: string, outcome: string): void {
    this.calls.inc({ outcome });
    this.stack!.send(sip.makeResponse(req, status, reason));
  }

  /** Ends a call from our side: BYE to the caller. */
  private hangup(callId: string, reason: string): void {
    const d = this.dialogs.get(callId);
    if (!d) return;
    this.stack!.send({
      method: 'BYE',
      uri: d.remoteTarget,
      headers: {
        to: d.remote, from: d.local, 'call-id': callId, cseq: { method: 'BYE', seq: ++d.cseq }, 'max-forwards': 70,
        // A loose route to the flow the INVITE came on (the stack sends it there and drops the Route itself).
        route: [{ uri: sip.stringifyUri({ ...this.stack!.encodeFlowUri(d.flow), params: { lr: null } }), params: {} }],
      },
    }, () => undefined);
    this.end(callId, reason);
  }

  private end(callId: string, reason: string): void {
    const d = this.dialogs.get(callId);
    if (!d) return;
    this.dialogs.delete(callId);
    if (d.retransmit) clearTimeout(d.retransmit);
    this.usedPorts.delete(d.port);
    const state: CallState = d.call.state;
    d.call.close();
    this.calls.inc({ outcome: state === 'meeting' ? 'joined' : 'not_joined' });
    this.log.info({ call: callId, reason, state }, 'call ended');
  }

  private async bindRtp(): Promise<dgram.Socket | null> {
    const o = this.options;
    for (let port = o.rtpMinPort + (o.rtpMinPort & 1); port <= o.rtpMaxPort; port += 2) {
      if (this.usedPorts.has(port)) continue;
      const s = dgram.createSocket(o.rtpIp.includes(':') ? 'udp6' : 'udp4');
      const bound = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.bind(port, o.rtpIp, () => resolve(true));
      });
      if (bound) {
        s.removeAllListeners('error');
        s.on('error', (err) => this.log.debug({ err }, 'rtp socket'));
        this.usedPorts.add(port);
        return s;
      }
      s.close();
    }
    return null;
  }

  /** Hangs up every call (BYE), then stops SIP and HTTP. */
  async stop(): Promise<void> {
    for (const callId of [...this.dialogs.keys()]) this.hangup(callId, 'gateway stopping');
    if (this.ticker) clearInterval(this.ticker);
    await new Promise((r) => setTimeout(r, 100)); // let the BYEs leave
    this.stack?.destroy();
    this.stack = null;
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

/** The caller's media address, G.711 flavour (their first choice of PCMU/PCMA) and telephone-event payload type. */
export function parseOffer(req: SipMessage): { ip: string | null; port: number; codec: G711; dtmf: number | null } | null {
  if (!req.content || !/application\/sdp/i.test(String(req.headers['content-type'] ?? ''))) return null;
  let s;
  try {
    s = sdp.parse(req.content.replace(/\r?\n/g, '\r\n'));
  } catch {
    return null;
  }
  const m = s.m.find((x) => x.media === 'audio' && x.port > 0);
  if (!m) return null;
  const maps = new Map<number, string>();
  for (const a of m.a ?? []) {
    const r = /^rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(a);
    if (r) maps.set(Number(r[1]), `${r[2]!.toLowerCase()}/${r[3]}`);
  }
  const codecPt = m.fmt.find((pt) => pt === 0 || pt === 8);
  if (codecPt === undefined) return null;
  const dtmf = m.fmt.find((pt) => maps.get(pt) === 'telephone-event/8000') ?? null;
  const ip = (m.c ?? s.c)?.address ?? null;
  return { ip: ip === '0.0.0.0' ? null : ip, port: m.port, codec: codecPt === 0 ? 'PCMU' : 'PCMA', dtmf };
}

export function answerSdp(ip: string, port: number, codec: G711, dtmf: number | null): string {
  const pt = codec === 'PCMU' ? 0 : 8;
  const v = ip.includes(':') ? 'IP6' : 'IP4';
  const id = Date.now();
  return [
    'v=0', `o=meshmeet ${id} ${id} IN ${v} ${ip}`, 's=MeshMeet', `c=IN ${v} ${ip}`, 't=0 0',
    `m=audio ${port} RTP/AVP ${pt}${dtmf !== null ? ` ${dtmf}` : ''}`,
    `a=rtpmap:${pt} ${codec}/8000`,
    ...(dtmf !== null ? [`a=rtpmap:${dtmf} telephone-event/8000`, `a=fmtp:${dtmf} 0-15`] : []),
    'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

/** Starts a gateway (the node CLI's `--sip` or `edge-node/sip/main.ts` call this). */
export function startSipGateway(options: Partial<SipGatewayOptions> & Pick<SipGatewayOptions, 'controlUrl' | 'secret'>): Promise<SipGateway> {
  return SipGateway.start({ ...SIP_GATEWAY_DEFAULTS, ...options });
}
