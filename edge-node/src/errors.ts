import type { ErrorCode } from '../protocol/signalling.js';

/** An error that is an answer to the client, with a protocol error code. */
export class SignallingError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignallingError';
  }
}
