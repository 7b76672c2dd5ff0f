/** Types for the parts of the npm `sip` package (0.0.6, plain JavaScript) that the gateway uses. */
declare module 'sip' {
  export interface SipUri { schema?: string; user?: string; password?: string; host: string; port?: number; params?: Record<string, unknown>; headers?: Record<string, unknown> }
  export interface NameAddr { name?: string; uri: string; params: Record<string, string | undefined> }
  export interface SipHeaders {
    via?: Array<{ version?: string; protocol?: string; host?: string; port?: number; params: Record<string, unknown> }>;
    from?: NameAddr;
    to?: NameAddr;
    'call-id'?: string;
    cseq?: { seq: number; method: string };
    contact?: NameAddr[];
    'content-type'?: string;
    [name: string]: unknown;
  }
  export interface SipMessage {
    method?: string;
    uri?: string;
    version?: string;
    status?: number;
    reason?: string;
    headers: SipHeaders;
    content?: string;
  }
  export interface Remote { protocol: string; address: string; port: number; local?: { address: string; port: number } }
  export interface SipStack {
    send(m: SipMessage, callback?: (response: SipMessage) => void): void;
    /** A URI on this stack's host that routes to an existing flow (connection or UDP peer). */
    encodeFlowUri(flow: Remote): SipUri;
    destroy(): void;
  }
  export function create(options: {
    port?: number; address?: string; publicAddress?: string; hostname?: string; udp?: boolean; tcp?: boolean;
    logger?: { error?: (e: unknown) => void; send?: unknown; recv?: unknown };
  }, onRequest: (request: SipMessage, remote: Remote) => void): SipStack;
  export function makeResponse(request: SipMessage, status: number, reason?: string): SipMessage;
  export function parseUri(uri: string): SipUri;
  export function stringifyUri(uri: SipUri): string;
  export function generateBranch(): string;
  const sip: { create: typeof create; makeResponse: typeof makeResponse; parseUri: typeof parseUri; stringifyUri: typeof stringifyUri };
  export default sip;
}
declare module 'sip/sdp.js' {
  export interface SdpMedia { media: string; port: number; proto: string; fmt: number[]; a?: string[]; c?: { address: string } }
  export interface Sdp { c?: { nettype: string; addrtype: string; address: string }; m: SdpMedia[]; a?: string[] }
  export function parse(sdp: string): Sdp;
  const sdp: { parse: typeof parse };
  export default sdp;
}
