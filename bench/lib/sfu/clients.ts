/** The bot-side adapter for a running SFU, loaded lazily so a bot process only imports what it uses. */
import type { ConnectInfo, SfuClient } from './types.js';

export async function clientFor(info: ConnectInfo): Promise<SfuClient> {
  switch (info.kind) {
    case 'meshmeet':
      return new (await import('./meshmeet.js')).MeshmeetClient(info);
    case 'livekit':
      return new (await import('./livekit.js')).LivekitClient(info);
    case 'janus':
      return new (await import('./janus.js')).JanusClient(info);
  }
}
