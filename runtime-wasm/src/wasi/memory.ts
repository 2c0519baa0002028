/**
 * Views of the guest's linear memory. The buffer is replaced when the guest
 * grows its memory, so views are refreshed lazily on every access.
 * Out-of-bounds pointers make DataView throw a RangeError: the runner turns
 * that into a trap, as wasmtime does for a bad pointer passed to WASI.
 */
import { Errno } from './defs.js';

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** Up to this many bytes, an ASCII string is decoded by hand (see GuestMemory.string). */
const ASCII_FAST_MAX = 256;

export class GuestMemory {
  private memory: WebAssembly.Memory | undefined;
  private buffer: ArrayBuffer | SharedArrayBuffer | undefined;
  private dv!: DataView;
  private u8: Uint8Array | undefined;
  /** A shared memory's buffer is not detached by growth: it is compared with memory.buffer on each access. */
  private shared = false;

  attach(memory: WebAssembly.Memory | undefined): void {
    this.memory = memory;
    this.buffer = undefined;
    this.u8 = undefined;
    this.shared = memory !== undefined && typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  }

  get attached(): boolean {
    return this.memory !== undefined;
  }

  /**
   * Lets go of the memory (it goes back to a pool): its size is still
   * reported, nothing else can be read any more.
   */
  detach(): void {
    this.finalBytes = this.byteLength;
    this.attach(undefined);
  }

  private finalBytes = 0;

  get byteLength(): number {
    if (!this.memory) return this.finalBytes;
    this.refresh();
    return this.u8!.byteLength;
  }

  /**
   * Views are remade only when the memory grew: growth detaches the old
   * buffer (its views then have length 0), so no memory.buffer read (a slow
   * accessor) is needed per syscall. A memory of 0 bytes is simply re-read.
   */
  private refresh(): void {
    if (this.u8 !== undefined && this.u8.byteLength !== 0 && !this.shared) return;
    const m = this.memory;
    if (!m) throw new RangeError('the module exports no memory named "memory"');
    const b = m.buffer;
    if (this.buffer !== b || this.u8 === undefined) {
      this.buffer = b;
      this.dv = new DataView(b);
      this.u8 = new Uint8Array(b);
    }
  }

  view(): DataView {
    this.refresh();
    return this.dv;
  }

  bytes(): Uint8Array {
    this.refresh();
    return this.u8!;
  }

  u32(ptr: number): number {
    return this.view().getUint32(ptr, true);
  }
  setU32(ptr: number, v: number): void {
    this.view().setUint32(ptr, v, true);
  }
  setU64(ptr: number, v: bigint): void {
    this.view().setBigUint64(ptr, BigInt.asUintN(64, v), true);
  }

  /** Checks that [ptr, ptr+len) is inside memory; throws RangeError (a trap) otherwise. */
  check(ptr: number, len: number): void {
    if (ptr + len > this.byteLength) throw outsideMemory(ptr, len);
  }

  /** A copy of guest bytes. */
  copyOut(ptr: number, len: number): Uint8Array {
    this.check(ptr, len);
    return this.bytes().slice(ptr, ptr + len);
  }

  copyIn(ptr: number, data: Uint8Array): void {
    this.check(ptr, data.length);
    this.bytes().set(data, ptr);
  }

  /** A guest string: ILSEQ when it is not UTF-8 (as wasmtime). */
  string(ptr: number, len: number): { ok: true; value: string } | { ok: false; errno: number } {
    this.check(ptr, len);
    const u8 = this.bytes();
    // Paths are mostly short ASCII: a TextDecoder call costs more than the whole
    // lookup they feed, so those are read byte by byte.
    if (len <= ASCII_FAST_MAX) {
      const codes = new Array<number>(len);
      let i = 0;
      for (; i < len; i++) {
        const c = u8[ptr + i]!;
        if (c >= 0x80) break;
        codes[i] = c;
      }
      if (i === len) return { ok: true, value: String.fromCharCode.apply(null, codes) };
    }
    try {
      return { ok: true, value: decoder.decode(u8.subarray(ptr, ptr + len)) };
    } catch {
      return { ok: false, errno: Errno.ILSEQ };
    }
  }

  /** Reads an iovec array: [{ptr, len}]. */
  iovecs(ptr: number, count: number): Array<{ ptr: number; len: number }> {
    this.check(ptr, count * 8);
    const dv = this.view();
    const out = new Array<{ ptr: number; len: number }>(count);
    for (let i = 0; i < count; i++) {
      const p = dv.getUint32(ptr + i * 8, true);
      const l = dv.getUint32(ptr + i * 8 + 4, true);
      out[i] = { ptr: p, len: l };
    }
    for (const v of out) this.check(v.ptr, v.len);
    return out;
  }

  /** Gathers a ciovec array into one copied buffer. */
  gather(ptr: number, count: number): Uint8Array {
    const iovs = this.iovecs(ptr, count);
    const u8 = this.bytes();
    if (iovs.length === 1) return u8.slice(iovs[0]!.ptr, iovs[0]!.ptr + iovs[0]!.len);
    let total = 0;
    for (const v of iovs) total += v.len;
    const out = new Uint8Array(total);
    let off = 0;
    for (const v of iovs) {
      out.set(u8.subarray(v.ptr, v.ptr + v.len), off);
      off += v.len;
    }
    return out;
  }

  /** Scatters `data` over an iovec array; returns the bytes placed. */
  scatter(iovs: Array<{ ptr: number; len: number }>, data: Uint8Array): number {
    const u8 = this.bytes();
    // One buffer that holds it all (a read's usual case): no view to make.
    if (iovs.length > 0 && iovs[0]!.len >= data.length) {
      u8.set(data, iovs[0]!.ptr);
      return data.length;
    }
    let off = 0;
    for (const v of iovs) {
      if (off >= data.length) break;
      const n = Math.min(v.len, data.length - off);
      u8.set(data.subarray(off, off + n), v.ptr);
      off += n;
    }
    return off;
  }
}

/** The trap for a pointer outside linear memory (the runner turns a RangeError into one). */
export function outsideMemory(ptr: number, len: number): RangeError {
  return new RangeError(`pointer ${ptr}+${len} is outside linear memory`);
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** A stat result as the syscall layer sees it (the shim's Filestat, or ours). */
export interface StatLike {
  dev?: bigint;
  ino: bigint;
  filetype: number;
  nlink?: bigint;
  size: bigint;
  atim?: bigint;
  mtim?: bigint;
  ctim?: bigint;
}

export function writeFilestat(mem: GuestMemory, ptr: number, s: StatLike): void {
  mem.check(ptr, 64);
  const dv = mem.view();
  dv.setBigUint64(ptr, s.dev ?? 0n, true);
  dv.setBigUint64(ptr + 8, BigInt.asUintN(64, s.ino), true);
  dv.setUint8(ptr + 16, s.filetype);
  for (let i = 17; i < 24; i++) dv.setUint8(ptr + i, 0);
  dv.setBigUint64(ptr + 24, s.nlink ?? 1n, true);
  dv.setBigUint64(ptr + 32, BigInt.asUintN(64, s.size), true);
  dv.setBigUint64(ptr + 40, BigInt.asUintN(64, s.atim ?? 0n), true);
  dv.setBigUint64(ptr + 48, BigInt.asUintN(64, s.mtim ?? 0n), true);
  dv.setBigUint64(ptr + 56, BigInt.asUintN(64, s.ctim ?? 0n), true);
}

export function writeFdstat(mem: GuestMemory, ptr: number, filetype: number, flags: number, base: bigint, inheriting: bigint): void {
  mem.check(ptr, 24);
  const dv = mem.view();
  dv.setUint8(ptr, filetype);
  dv.setUint8(ptr + 1, 0);
  dv.setUint16(ptr + 2, flags, true);
  dv.setUint32(ptr + 4, 0, true);
  dv.setBigUint64(ptr + 8, base, true);
  dv.setBigUint64(ptr + 16, inheriting, true);
}
