/** Starts an SFU of any kind for a run (server side). Peers that cannot be installed or built say so clearly. */
import type { SfuKind, SfuServer } from './types.js';

export interface StartOptions {
  workDir: string;
  workerBin?: string;
  label?: string;
  /** mediasoup workers for our node (one meeting lives on one worker: 1 is the fair default for one room). */
  workers?: number;
}

export async function startSfu(kind: SfuKind, o: StartOptions): Promise<SfuServer> {
  switch (kind) {
    case 'meshmeet':
      return (await import('./meshmeet.js')).startMeshmeet({ workDir: o.workDir, workers: o.workers ?? 1, workerBin: o.workerBin, label: o.label });
    case 'livekit':
      return (await import('./livekit.js')).startLivekit({ workDir: o.workDir });
    case 'janus':
      return (await import('./janus.js')).startJanus({ workDir: o.workDir });
  }
}
