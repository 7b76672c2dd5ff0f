/** Starts an SFU of any kind for a run (server side). Peers that cannot be installed or built say so clearly. */
import type { SfuKind, SfuServer } from './types.js';

export interface StartOptions {
  workDir: string;
  workerBin?: string;
  label?: string;
  /** mediasoup workers for our node (one meeting lives on one worker: 1 is the fair default for one room). */
  workers?: number;
  /** Extra environment of our node's process (and so of its mediasoup workers). */
  env?: Record<string, string>;
}

export async function startSfu(kind: SfuKind, o: StartOptions): Promise<SfuServer> {
  switch (kind) {
    case 'meshmeet':
      return (await import('./meshmeet.js')).startMeshmeet({ workDir: o.workDir, workers: o.workers ?? 1, workerBin: o.workerBin, label: o.label, env: o.env });
    case 'livekit':
      return (await import('./livekit.js')).startLivekit({ workDir: o.workDir });
    case 'janus':
      return (await import('./janus.js')).startJanus({ workDir: o.workDir });
  }
}
