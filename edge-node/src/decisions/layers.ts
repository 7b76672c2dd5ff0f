/**
 * Simulcast layer choice, per viewer: pure, no I/O.
 *
 * The viewer's screen has one large tile (a pinned participant, else a screen share, else the active speaker) and
 * thumbnails for everyone else. The large tile gets the highest spatial layer, thumbnails a low one, tiles that are
 * not on screen the lowest. A manual preference from the viewer for one consumer wins over all of this.
 */
import type { ProducerSource } from '../../protocol/signalling.js';

export interface Layers {
  spatialLayer: number;
  temporalLayer: number;
}

export interface ConsumerView {
  consumerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: ProducerSource;
  /** The viewer's manual choice for this consumer, if any. */
  override: { spatialLayer: number; temporalLayer?: number } | null;
}

export interface ViewerState {
  /** Participant the viewer pinned to the large tile. */
  pinned: string | null;
  /** Participants whose tiles are on the viewer's screen; null means all. */
  visible: ReadonlySet<string> | null;
}

export interface LayerInput {
  viewer: ViewerState;
  activeSpeakerId: string | null;
  consumers: readonly ConsumerView[];
  /** Spatial layers the producers send (3 for our VP8 simulcast). */
  spatialLayers: number;
  temporalLayers: number;
}

export const THUMBNAIL_LAYER = 0;
/** With this many camera tiles or fewer, thumbnails are large enough to deserve the middle layer. */
export const FEW_TILES = 2;

/** The participant whose camera fills the large tile, or null when a screen share (or nothing) does. */
export function focusParticipant(input: LayerInput): string | null {
  const { viewer, activeSpeakerId, consumers } = input;
  const cameras = consumers.filter((c) => c.kind === 'video' && c.source === 'camera');
  if (viewer.pinned && consumers.some((c) => c.participantId === viewer.pinned)) return viewer.pinned;
  if (consumers.some((c) => c.kind === 'video' && c.source === 'screen')) return null;
  if (activeSpeakerId && cameras.some((c) => c.participantId === activeSpeakerId)) return activeSpeakerId;
  // Nobody has spoken yet: with one remote camera, that one is the large tile.
  return cameras.length === 1 ? cameras[0]!.participantId : null;
}

/** Preferred layers for each video consumer of one viewer (audio consumers are left out). */
export function chooseLayers(input: LayerInput): Map<string, Layers> {
  const top = input.spatialLayers - 1;
  const topTemporal = input.temporalLayers - 1;
  const focus = focusParticipant(input);
  const screenShown = input.consumers.some(
    (c) => c.kind === 'video' && c.source === 'screen' && c.participantId !== input.viewer.pinned,
  );
  const cameraCount = input.consumers.filter((c) => c.kind === 'video' && c.source === 'camera').length;
  const thumbnail = cameraCount <= FEW_TILES && !screenShown ? Math.min(1, top) : THUMBNAIL_LAYER;
  const out = new Map<string, Layers>();
  for (const c of input.consumers) {
    if (c.kind !== 'video') continue;
    let layers: Layers;
    if (c.override) {
      layers = {
        spatialLayer: Math.min(c.override.spatialLayer, top),
        temporalLayer: Math.min(c.override.temporalLayer ?? topTemporal, topTemporal),
      };
    } else if (c.source === 'screen') {
      layers = { spatialLayer: top, temporalLayer: topTemporal };
    } else if (input.viewer.visible && !input.viewer.visible.has(c.participantId)) {
      layers = { spatialLayer: 0, temporalLayer: 0 };
    } else if (c.participantId === focus) {
      layers = { spatialLayer: top, temporalLayer: topTemporal };
    } else {
      layers = { spatialLayer: thumbnail, temporalLayer: topTemporal };
    }
    out.set(c.consumerId, layers);
  }
  return out;
}
