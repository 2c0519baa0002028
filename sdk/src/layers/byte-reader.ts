/**
 * Reads exact byte counts from a stream. Chunks are handed out as views
 * (no copy) whenever a read falls inside one chunk; only reads that straddle
 * chunks are copied, so memory stays at about one source chunk.
 */
const EMPTY = new Uint8Array(0);

export class ByteReader {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private chunk: Uint8Array = EMPTY;
  private off = 0;
  private eof = false;
  /** Bytes consumed so far, for error messages. */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  /** Bytes that can be read without waiting. */
  get buffered(): number {
    return this.chunk.length - this.off;
  }

  /** Loads the next non-empty chunk; false at the end of the stream. */
  private async next(): Promise<boolean> {
    while (!this.eof) {
      const { done, value } = await this.reader.read();
      if (done) { this.eof = true; break; }
      if (value.length === 0) continue;
      this.chunk = value;
      this.off = 0;
      return true;
    }
    this.chunk = EMPTY;
    this.off = 0;
    return false;
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    if (this.buffered === 0 && n > 0 && !(await this.next())) return EMPTY;
    if (this.buffered >= n) return this.takeSync(n);
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      if (this.buffered === 0 && !(await this.next())) return out.subarray(0, o);
      const part = this.takeSync(n - o);
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  /** Up to n bytes from what is buffered, without waiting (maybe empty). */
  takeSync(n: number): Uint8Array {
    const take = Math.min(n, this.buffered);
    const out = this.chunk.subarray(this.off, this.off + take);
    this.off += take;
    this.position += take;
    return out;
  }

  /** Up to n bytes: what is buffered, else the next chunk. Empty at the end. */
  async readSome(n: number): Promise<Uint8Array> {
    if (this.buffered === 0 && !(await this.next())) return EMPTY;
    return this.takeSync(n);
  }

  /** Skips n bytes; returns how many were skipped (fewer at the end). */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.next())) break;
      left -= this.takeSync(left).length;
    }
    return n - left;
  }

  /** Reads to the end of the stream, so upstream checks (digests) run. */
  async drain(): Promise<void> {
    this.chunk = EMPTY;
    this.off = 0;
    while (!this.eof) if (!(await this.next())) break;
  }

  async cancel(reason?: unknown): Promise<void> {
    if (this.eof) return;
    this.eof = true;
    await this.reader.cancel(reason).catch(() => {});
  }
}
