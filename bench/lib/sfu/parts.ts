/** What every adapter's bot is made of: its transports, a sender and a receiver wired to them, and closing it all. */
import type { BenchMedia } from '../media.js';
import { MediaReceiver } from '../rtc/receiver.js';
import { MediaSender, type SendExtensions } from '../rtc/sender.js';
import { BotTransport } from '../rtc/transport.js';
import type { BotSession } from './types.js';

export class BotParts {
  private readonly transports: BotTransport[] = [];
  sender: MediaSender | null = null;
  receiver: MediaReceiver | null = null;

  /** `closeSignalling` ends the adapter's own signalling when the bot closes. */
  constructor(private readonly closeSignalling: () => unknown) {}

  async transport(controlling: boolean): Promise<BotTransport> {
    const t = await BotTransport.create({ controlling });
    this.transports.push(t);
    return t;
  }

  /** A receiver counting what arrives on `t` and answering its RTCP. */
  receive(t: BotTransport, twccExtId?: number): MediaReceiver {
    const rx = new MediaReceiver(t, twccExtId);
    t.onRtp((p) => rx.handleRtp(p));
    t.onRtcp((p) => rx.handleRtcp(p));
    this.receiver = rx;
    return rx;
  }

  /** A sender on `t`, answering the RTCP that comes back about what it sends. */
  send(t: BotTransport, media: BenchMedia, ext: SendExtensions): MediaSender {
    const tx = new MediaSender(t, media, ext);
    t.onRtcp((p) => tx.handleRtcp(p));
    this.sender = tx;
    return tx;
  }

  /** Steps of the join so far: each `mark` ends one. */
  readonly steps: [string, number][] = [];

  mark(step: string): void {
    this.steps.push([step, performance.now()]);
  }

  session(joinedAt: number): BotSession {
    return { sender: this.sender, receiver: this.receiver, joinedAt, mediaConnectedAt: performance.now(), steps: this.steps, close: () => this.close() };
  }

  async close(): Promise<void> {
    this.sender?.stop();
    this.receiver?.stop();
    await this.closeSignalling();
    await Promise.all(this.transports.map((t) => t.close()));
  }
}
