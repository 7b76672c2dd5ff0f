/**
 * Host commands on this node's part of a meeting. `commandTargets` is the pure decision (which participants a
 * command hits, and what it does to their media); `applyMediaCommand` carries out the media part (mute, stop video
 * or screen). Disconnecting (remove, end) is the node's part: it owns the sockets.
 */
import type { HostCommand } from '../../protocol/commands.js';
import type { ProducerSource } from '../../protocol/signalling.js';
import type { Participant } from './participant.js';

export interface CommandPlan {
  /** Ids of the participants the command hits, among `present`. */
  targets: string[];
  /** What happens to them: their producers of `source` are paused (`pause`) or closed (`close`), or they are disconnected. */
  effect: { type: 'pause' | 'close'; source: ProducerSource } | { type: 'disconnect'; reason: 'removed' | 'ended' };
}

/** Which of the `present` participants a command hits, and how. Pure. */
export function commandTargets(cmd: HostCommand, present: readonly string[]): CommandPlan {
  const only = (id: string) => (present.includes(id) ? [id] : []);
  switch (cmd.act) {
    case 'mute':
      return { targets: only(cmd.target), effect: { type: 'pause', source: 'mic' } };
    case 'muteAll':
      return { targets: present.filter((id) => !cmd.except.includes(id)), effect: { type: 'pause', source: 'mic' } };
    case 'stopVideo':
      return { targets: only(cmd.target), effect: { type: 'close', source: 'camera' } };
    case 'stopScreen':
      return { targets: only(cmd.target), effect: { type: 'close', source: 'screen' } };
    case 'remove':
      return { targets: only(cmd.target), effect: { type: 'disconnect', reason: 'removed' } };
    case 'end':
      return { targets: [...present], effect: { type: 'disconnect', reason: 'ended' } };
  }
}

/**
 * Pauses or closes the targets' producers as the plan says and tells each owner; returns how many producers it
 * touched. A disconnect plan touches no media here.
 */
export async function applyMediaCommand(cmd: HostCommand, plan: CommandPlan, participants: readonly Participant[]): Promise<number> {
  const { effect } = plan;
  if (effect.type === 'disconnect') return 0;
  let affected = 0;
  for (const p of participants) {
    if (!plan.targets.includes(p.id)) continue;
    for (const prod of p.producers()) {
      if (prod.appData.source !== effect.source) continue;
      affected++;
      if (effect.type === 'pause') {
        if (!prod.paused) await prod.pause();
        p.notify('hostAction', { action: 'mute', producerId: prod.id });
      } else {
        p.notify('hostAction', { action: cmd.act === 'stopVideo' ? 'stopVideo' : 'stopScreen', producerId: prod.id });
        prod.close();
      }
    }
  }
  return affected;
}
