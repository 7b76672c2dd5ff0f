/** The codecs every meeting router offers: Opus; VP8 (simulcast, 3 layers) first, H264 second. */
import { createHash } from 'node:crypto';
import type { types } from 'mediasoup';

export const ROUTER_MEDIA_CODECS: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: {
      'packetization-mode': 1,
      'profile-level-id': '42e01f',
      'level-asymmetry-allowed': 1,
      'x-google-start-bitrate': 1000,
    },
  },
];

/** Simulcast shape the web client sends (and the layer choice assumes). */
export const SIMULCAST_SPATIAL_LAYERS = 3;
export const SIMULCAST_TEMPORAL_LAYERS = 3;

/** Hash of the router codecs, in heartbeats: nodes with another hash are never piped to or routed together. */
export const CODEC_HASH = createHash('sha256').update(JSON.stringify(ROUTER_MEDIA_CODECS)).digest('hex').slice(0, 16);
