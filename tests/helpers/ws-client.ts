/** Node-side signalling clients for integration tests: the web client's SignallingClient over `ws`, and raw frames. */
import WebSocket from 'ws';
import { SignallingClient } from '../../web/src/signalling-client.js';
import { PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';

export function connect(wsUrl: string, meetingId: string, token: string): SignallingClient {
  return SignallingClient.connect(wsUrl, meetingId, token, WebSocket as unknown as typeof globalThis.WebSocket);
}

/** Connects and joins with the router's own capabilities (enough to consume what others send). */
export async function joinAs(wsUrl: string, meetingId: string, token: string): Promise<SignallingClient> {
  const c = connect(wsUrl, meetingId, token);
  const { rtpCapabilities } = await c.request('getRouterRtpCapabilities', {});
  await c.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities });
  return c;
}

/** RTP parameters of an Opus stream, as a browser would send them: enough for mediasoup to create a real producer. */
export function opusRtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
    encodings: [{ ssrc }],
    headerExtensions: [],
    rtcp: { cname: `cname-${ssrc}` },
  };
}

/** Resolves with the close code and reason of a raw socket; rejects if it is still open after `timeoutMs`. */
export function closed(ws: WebSocket, timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.reject(new Error('socket already closed: its close code was missed'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** A raw socket that records every frame it receives, for tests of malformed input. */
export class RawSocket {
  readonly ws: WebSocket;
  readonly frames: any[] = [];
  readonly open: Promise<void>;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (d) => this.frames.push(JSON.parse(d.toString())));
    this.open = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }
  /** Sends a frame and waits for the response whose id matches (or, for id null, the next error). */
  async send(frame: string | Buffer, id: string | number | null): Promise<any> {
    await this.open;
    const start = this.frames.length;
    this.ws.send(frame);
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const hit = this.frames.slice(start).find((f) => 'ok' in f && f.id === id);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no response with id ${id}`);
  }
}

/** Resolves with the error of a socket whose upgrade the server refused (e.g. "Unexpected server response: 404"); rejects if it opens. */
export function upgradeRefused(ws: WebSocket, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to the upgrade after ${timeoutMs} ms`)), timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
  });
}
