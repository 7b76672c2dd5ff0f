/**
 * Length-prefixed JSON frames on a libp2p stream (the pipe protocol): a 4-byte big-endian length, then that many
 * bytes of UTF-8 JSON. One request frame and one response frame per stream. Frames over the limit are refused
 * before they are buffered.
 */
import type { Stream } from '@libp2p/interface';
import { MAX_PIPE_FRAME_BYTES } from '../../protocol/mesh.js';

export class FrameError extends Error {
  override name = 'FrameError';
}

export function encodeFrame(value: unknown, maxBytes = MAX_PIPE_FRAME_BYTES): Uint8Array {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > maxBytes) throw new FrameError(`frame of ${body.length} bytes is over the limit of ${maxBytes}`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** Reads one frame from a stream's source and parses its JSON (not yet validated against a schema). */
export async function readFrame(source: AsyncIterable<{ subarray(): Uint8Array }>, maxBytes = MAX_PIPE_FRAME_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let have = 0;
  let length = -1;
  for await (const chunk of source) {
    const bytes = chunk.subarray();
    chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    have += bytes.byteLength;
    if (length < 0 && have >= 4) {
      length = Buffer.concat(chunks).readUInt32BE(0);
      if (length > maxBytes) throw new FrameError(`frame of ${length} bytes is over the limit of ${maxBytes}`);
    }
    if (length >= 0 && have >= 4 + length) break;
  }
  if (length < 0 || have < 4 + length) throw new FrameError('stream ended before a whole frame arrived');
  const body = Buffer.concat(chunks).subarray(4, 4 + length);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new FrameError('frame is not JSON');
  }
}

/** Writes one frame and closes the stream's write side. */
export async function writeFrame(stream: Stream, value: unknown): Promise<void> {
  await stream.sink([encodeFrame(value)]);
}
