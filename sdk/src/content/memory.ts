import { notFound } from '../errors/index.js';
import { verifyingStream, digestOf, assertDigest } from '../image/digest.js';
import { REF_NAME_ANNOTATION, type Descriptor } from '../image/types.js';
import type { BlobInfo, Expected, ImageLayout } from './types.js';
import { checkExpected, collect } from './util.js';

/** An in-memory image layout for browsers and tests. */
export class MemoryImageLayout implements ImageLayout {
  private blobs = new Map<string, Uint8Array>();
  private refs = new Map<string, Descriptor>();

  async info(digest: string): Promise<BlobInfo | undefined> {
    const b = this.blobs.get(digest);
    return b ? { digest, size: b.length } : undefined;
  }

  async readBytes(digest: string): Promise<Uint8Array> {
    const b = this.blobs.get(digest);
    if (!b) throw notFound(`blob ${digest} is not in the store`);
    return b;
  }

  readStream(digest: string): ReadableStream<Uint8Array> {
    const b = this.blobs.get(digest);
    return new ReadableStream({
      start(ctl) {
        if (!b) return ctl.error(notFound(`blob ${digest} is not in the store`));
        ctl.enqueue(b);
        ctl.close();
      },
    });
  }

  async writeBytes(data: Uint8Array, expected: Expected = {}): Promise<BlobInfo> {
    const digest = digestOf(data);
    checkExpected({ digest, size: data.length }, expected);
    if (!this.blobs.has(digest)) this.blobs.set(digest, data.slice());
    return { digest, size: data.length };
  }

  async writeStream(stream: ReadableStream<Uint8Array>, expected: Expected = {}, options: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    if (expected.digest) assertDigest(expected.digest);
    const v = verifyingStream(expected, expected.digest ?? 'blob');
    const data = await collect(stream.pipeThrough(v.stream), options.signal);
    const { digest, size } = v.result();
    if (!this.blobs.has(digest)) this.blobs.set(digest, data);
    return { digest, size };
  }

  async delete(digest: string): Promise<void> {
    this.blobs.delete(digest);
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const [digest, b] of this.blobs) yield { digest, size: b.length };
  }

  async listRefs(): Promise<Array<{ name: string; target: Descriptor }>> {
    return [...this.refs].map(([name, target]) => ({ name, target }));
  }

  async getRef(name: string): Promise<Descriptor | undefined> {
    return this.refs.get(name);
  }

  async setRef(name: string, target: Descriptor): Promise<void> {
    this.refs.set(name, { ...target, annotations: { ...target.annotations, [REF_NAME_ANNOTATION]: name } });
  }

  async deleteRef(name: string): Promise<boolean> {
    return this.refs.delete(name);
  }
}
