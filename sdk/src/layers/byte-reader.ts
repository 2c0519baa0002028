/** Reads exact byte counts from a stream without copying more than needed. */
export class ByteReader {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  private done = false;
  /** Bytes consumed so far, for error messages. */
  position = 0;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.reader = stream.getReader();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const { done, value } = await this.reader.read();
    if (done) { this.done = true; return false; }
    if (this.off < this.buf.length) {
      const rest = this.buf.subarray(this.off);
      const merged = new Uint8Array(rest.length + value.length);
      merged.set(rest);
      merged.set(value, rest.length);
      this.buf = merged;
    } else this.buf = value;
    this.off = 0;
    return true;
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    while (this.buf.length - this.off < n) if (!(await this.fill())) break;
    const take = Math.min(n, this.buf.length - this.off);
    const out = this.buf.subarray(this.off, this.off + take);
    this.off += take;
    this.position += take;
    return out;
  }

  /** Up to n bytes: whatever is buffered, else one chunk. Empty at the end. */
  async readSome(n: number): Promise<Uint8Array> {
    if (this.off >= this.buf.length && !(await this.fill())) return new Uint8Array(0);
    const take = Math.min(n, this.buf.length - this.off);
    const out = this.buf.subarray(this.off, this.off + take);
    this.off += take;
    this.position += take;
    return out;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const b = await this.readSome(left);
      if (b.length === 0) break;
      left -= b.length;
    }
    return n - left;
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.reader.cancel(reason).catch(() => {});
  }

  release(): void {
    this.reader.releaseLock();
  }
}
