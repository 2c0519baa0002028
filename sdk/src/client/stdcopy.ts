/**
 * The Docker API's multiplexed stream (attach, logs and exec without a TTY):
 * frames of an 8-byte header `[stream, 0, 0, 0, size (uint32 big-endian)]`
 * and `size` bytes. Stream 0 is stdin, 1 stdout, 2 stderr. Isomorphic: the
 * daemon writes these frames, the client reads them.
 */
import { dataLoss } from '../errors/index.js';

export type StdStream = 'stdin' | 'stdout' | 'stderr';

const NUMBERS: Record<StdStream, number> = { stdin: 0, stdout: 1, stderr: 2 };
const NAMES: StdStream[] = ['stdin', 'stdout', 'stderr'];
/** dockerd cuts frames at 32 KiB; big writes are split the same way. */
const MAX_FRAME = 32 * 1024;

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/** One or more frames carrying `data` on `stream`. */
export function encodeFrames(stream: StdStream, data: Uint8Array): Uint8Array {
  const n = Math.max(1, Math.ceil(data.length / MAX_FRAME));
  const out = new Uint8Array(data.length + 8 * n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const part = data.subarray(i * MAX_FRAME, Math.min(data.length, (i + 1) * MAX_FRAME));
    out[o] = NUMBERS[stream];
    new DataView(out.buffer, out.byteOffset + o + 4, 4).setUint32(0, part.length);
    out.set(part, o + 8);
    o += 8 + part.length;
  }
  return out;
}

export interface Frame {
  stream: StdStream;
  data: Uint8Array;
}

/** Splits a byte stream into frames; chunk boundaries may fall anywhere. */
export class FrameDecoder {
  private buf = new Uint8Array(0);

  push(chunk: Uint8Array): Frame[] {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf, 0);
    joined.set(chunk, this.buf.length);
    const frames: Frame[] = [];
    let o = 0;
    while (joined.length - o >= 8) {
      const kind = joined[o]!;
      if (kind > 2 || joined[o + 1] !== 0 || joined[o + 2] !== 0 || joined[o + 3] !== 0) {
        throw dataLoss(`not a multiplexed Docker stream: bad frame header at byte ${o} (${[...joined.subarray(o, o + 8)].join(' ')}); is the container's Tty set?`);
      }
      const size = new DataView(joined.buffer, joined.byteOffset + o + 4, 4).getUint32(0);
      if (joined.length - o - 8 < size) break;
      frames.push({ stream: NAMES[kind]!, data: joined.slice(o + 8, o + 8 + size) });
      o += 8 + size;
    }
    this.buf = joined.slice(o);
    return frames;
  }

  /** Bytes of an unfinished frame left at the end of the stream. */
  get pending(): number {
    return this.buf.length;
  }
}
