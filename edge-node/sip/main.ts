/**
 * Runs the SIP gateway as its own process:
 *   SIP_CONTROL_URL=http://control:8090 PHONE_GATEWAY_SECRET=... npx tsx edge-node/sip/main.ts
 *   npx tsx edge-node/sip/main.ts --make-prompts     (speak the voice prompts once, as setup does)
 * SIGTERM/SIGINT hang up every call (BYE) and exit 0.
 */
import pino from 'pino';
import { z } from 'zod';
import { ListenPort as Port, LogLevel } from '../src/env-config.js';
import { SIP_GATEWAY_DEFAULTS, startSipGateway } from './gateway.js';
import { makePrompts } from './prompts.js';

const Env = z.object({
  SIP_CONTROL_URL: z.string().url(),
  PHONE_GATEWAY_SECRET: z.string().min(16),
  SIP_HOST: z.string().default(SIP_GATEWAY_DEFAULTS.sipHost),
  SIP_PORT: Port.default(SIP_GATEWAY_DEFAULTS.sipPort),
  SIP_PUBLIC_HOST: z.string().optional(),
  SIP_RTP_IP: z.string().default(SIP_GATEWAY_DEFAULTS.rtpIp),
  SIP_RTP_MIN_PORT: Port.default(SIP_GATEWAY_DEFAULTS.rtpMinPort),
  SIP_RTP_MAX_PORT: Port.default(SIP_GATEWAY_DEFAULTS.rtpMaxPort),
  SIP_NODE_BIND_IP: z.string().default(SIP_GATEWAY_DEFAULTS.nodeBindIp),
  SIP_HTTP_HOST: z.string().default(SIP_GATEWAY_DEFAULTS.httpHost),
  SIP_HTTP_PORT: Port.default(SIP_GATEWAY_DEFAULTS.httpPort),
  SIP_MAX_CALLS: z.coerce.number().int().min(1).max(10000).default(SIP_GATEWAY_DEFAULTS.maxCalls),
  SIP_MIX_SPEAKERS: z.coerce.number().int().min(1).max(8).default(SIP_GATEWAY_DEFAULTS.mixSpeakers),
  SIP_OPUS_COMPLEXITY: z.coerce.number().int().min(0).max(10).default(SIP_GATEWAY_DEFAULTS.opusComplexity),
  SIP_PROMPT_DIR: z.string().default(SIP_GATEWAY_DEFAULTS.promptDir),
  SIP_LOG_LEVEL: LogLevel.default('info'),
});

if (process.argv.includes('--make-prompts')) {
  await makePrompts(process.env.SIP_PROMPT_DIR || SIP_GATEWAY_DEFAULTS.promptDir);
  process.exit(0);
}
const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  console.error(`invalid SIP gateway configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  process.exit(2);
}
const e = parsed.data;
const logger = pino({ level: e.SIP_LOG_LEVEL, base: { service: 'sip-gateway' } });
const gateway = await startSipGateway({
  controlUrl: e.SIP_CONTROL_URL, secret: e.PHONE_GATEWAY_SECRET, sipHost: e.SIP_HOST, sipPort: e.SIP_PORT,
  ...(e.SIP_PUBLIC_HOST ? { publicHost: e.SIP_PUBLIC_HOST } : {}),
  rtpIp: e.SIP_RTP_IP, rtpMinPort: e.SIP_RTP_MIN_PORT, rtpMaxPort: e.SIP_RTP_MAX_PORT, nodeBindIp: e.SIP_NODE_BIND_IP,
  httpHost: e.SIP_HTTP_HOST, httpPort: e.SIP_HTTP_PORT, maxCalls: e.SIP_MAX_CALLS, mixSpeakers: e.SIP_MIX_SPEAKERS,
  opusComplexity: e.SIP_OPUS_COMPLEXITY, promptDir: e.SIP_PROMPT_DIR, logger,
});
// For whoever started us (tests, the node CLI): where the HTTP side listens.
console.log(JSON.stringify({ ready: true, http: gateway.httpUrl }));
let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void gateway.stop().then(() => process.exit(0), () => process.exit(1));
  });
}
