/**
 * The remove / end commands the control plane has signed that still matter: a node that joins the cluster after a
 * removal must learn it too, or the removed participant could join there with the token they still hold. Each
 * command is kept as long as the nodes keep it (`revocationWindow`, the nodes' own rule) and no longer.
 *
 * Pure: no I/O, no clock of its own (times are passed in, in seconds).
 */
import { revocationWindow } from '../../edge-node/index.js';

export class RevocationLedger {
  /** Signed command -> the time (seconds) after which no token it revokes is valid. */
  readonly #keepUntil = new Map<string, number>();

  /** Keeps a signed remove/end command signed at `signedAt` (seconds since the epoch, its time of signing: now). */
  add(command: string, signedAt: number): void {
    this.#prune(signedAt);
    this.#keepUntil.set(command, revocationWindow(signedAt).keepUntil);
  }

  /** The commands that still matter at `nowSeconds`, oldest first; the others are dropped. */
  active(nowSeconds: number): string[] {
    this.#prune(nowSeconds);
    return [...this.#keepUntil.keys()];
  }

  #prune(nowSeconds: number): void {
    for (const [command, until] of this.#keepUntil) if (until < nowSeconds) this.#keepUntil.delete(command);
  }

  get size(): number {
    return this.#keepUntil.size;
  }
}
