/**
 * HttpImageLayout: an OCI image layout read over HTTP, as any static web
 * server serves a directory that `skiff save --format oci-dir -o DIR IMAGE`
 * wrote (`oci-layout`, `index.json`, `blobs/sha256/<hex>`).
 *
 * - Names come from index.json (`org.opencontainers.image.ref.name`), read on
 *   first use (`refresh()` reads it again).
 * - A blob is fetched the first time something reads it (a container's
 *   layers when it is created, not before), checked against its digest (and
 *   its size, when a descriptor gave one), and kept in memory: a blob that
 *   does not match is refused with DATA_LOSS and never kept.
 * - Writes (a tag, an image built or committed on the page) go to memory
 *   beside it: the layout on the server is never changed. It is the `layout`
 *   an Engine needs in a browser.
 */
import {
  assertDigest, dataLoss, digestHex, digestOf, MemoryImageLayout, notFound, REF_NAME_ANNOTATION, unavailable, unsupported,
  type BlobInfo, type Descriptor, type Expected, type ImageLayout,
} from '@skiff/sdk';

export interface HttpImageLayoutOptions {
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: typeof fetch;
}

interface OciIndex {
  schemaVersion: number;
  manifests?: Descriptor[];
}

export class HttpImageLayout implements ImageLayout {
  private readonly base: string;
  private readonly fetcher: typeof fetch;
  private readonly local = new MemoryImageLayout();
  /** Blobs fetched and verified, by digest. */
  private readonly fetched = new Map<string, Uint8Array>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  /** Sizes the descriptors seen so far promise, by digest. */
  private readonly sizes = new Map<string, number>();
  private remoteRefs: Promise<Map<string, Descriptor>> | undefined;
  /** Names deleted here, hiding the server's. */
  private readonly hidden = new Set<string>();
  /** Blob downloads so far (digest order), for progress displays and tests. */
  readonly downloads: string[] = [];

  constructor(baseUrl: string | URL, options: HttpImageLayoutOptions = {}) {
    const href = typeof baseUrl === 'string' ? new URL(baseUrl, globalThis.location?.href).href : baseUrl.href;
    this.base = href.endsWith('/') ? href : `${href}/`;
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Reads index.json again (names added on the server since). */
  refresh(): Promise<void> {
    this.remoteRefs = undefined;
    return this.refs().then(() => {});
  }

  private async get(path: string): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetcher(this.base + path);
    } catch (err) {
      throw unavailable(`cannot fetch ${this.base}${path}: ${(err as Error).message}; is the image layout served there?`, err);
    }
    if (res.status === 404) throw notFound(`${this.base}${path} is not on the server (404)`);
    if (!res.ok) throw unavailable(`fetching ${this.base}${path} failed: HTTP ${res.status} ${res.statusText}`);
    return res;
  }

  private refs(): Promise<Map<string, Descriptor>> {
    this.remoteRefs ??= (async () => {
      const layoutFile = await (await this.get('oci-layout')).json().catch(() => undefined) as { imageLayoutVersion?: string } | undefined;
      if (!layoutFile?.imageLayoutVersion) throw unsupported(`${this.base} is not an OCI image layout: its oci-layout file has no imageLayoutVersion`);
      const index = await (await this.get('index.json')).json() as OciIndex;
      const refs = new Map<string, Descriptor>();
      for (const d of index.manifests ?? []) {
        this.sizes.set(d.digest, d.size);
        const name = d.annotations?.[REF_NAME_ANNOTATION];
        if (name) refs.set(name, d);
      }
      return refs;
    })();
    this.remoteRefs.catch(() => (this.remoteRefs = undefined));
    return this.remoteRefs;
  }

  // ---- RefStore ---------------------------------------------------------------

  async listRefs(): Promise<Array<{ name: string; target: Descriptor }>> {
    const out = new Map<string, Descriptor>();
    for (const [name, target] of await this.refs()) if (!this.hidden.has(name)) out.set(name, target);
    for (const r of await this.local.listRefs()) out.set(r.name, r.target);
    return [...out].map(([name, target]) => ({ name, target }));
  }

  async getRef(name: string): Promise<Descriptor | undefined> {
    const own = await this.local.getRef(name);
    if (own) return own;
    if (this.hidden.has(name)) return undefined;
    return (await this.refs()).get(name);
  }

  async setRef(name: string, target: Descriptor): Promise<void> {
    this.hidden.delete(name);
    await this.local.setRef(name, target);
  }

  async deleteRef(name: string): Promise<boolean> {
    const own = await this.local.deleteRef(name);
    const remote = !this.hidden.has(name) && (await this.refs()).has(name);
    if (remote) this.hidden.add(name);
    return own || remote;
  }

  // ---- Provider ---------------------------------------------------------------

  async info(digest: string): Promise<BlobInfo | undefined> {
    const own = await this.local.info(digest);
    if (own) return own;
    const have = this.fetched.get(digest);
    if (have) return { digest, size: have.length };
    await this.refs();
    const known = this.sizes.get(digest);
    if (known !== undefined) return { digest, size: known };
    // Ask the server without downloading.
    let res: Response;
    try {
      res = await this.fetcher(this.base + blobPath(digest), { method: 'HEAD' });
    } catch {
      return undefined;
    }
    if (!res.ok) return undefined;
    const len = Number(res.headers.get('content-length'));
    return Number.isFinite(len) && len >= 0 ? { digest, size: len } : undefined;
  }

  async readBytes(digest: string): Promise<Uint8Array> {
    assertDigest(digest);
    if (await this.local.info(digest)) return this.local.readBytes(digest);
    const have = this.fetched.get(digest);
    if (have) return have;
    let p = this.inflight.get(digest);
    if (!p) {
      p = this.download(digest);
      this.inflight.set(digest, p);
      void p.finally(() => this.inflight.delete(digest)).catch(() => {});
    }
    return p;
  }

  private async download(digest: string): Promise<Uint8Array> {
    const res = await this.get(blobPath(digest));
    this.downloads.push(digest);
    const data = new Uint8Array(await res.arrayBuffer());
    const expected = this.sizes.get(digest);
    if (expected !== undefined && data.length !== expected) {
      throw dataLoss(`blob ${digest} from ${this.base}: got ${data.length} bytes, its descriptor says ${expected}; the server's copy is corrupt`);
    }
    const got = digestOf(data);
    if (got !== digest) throw dataLoss(`blob ${digest} from ${this.base} has digest ${got}; the server's copy is corrupt, refusing it`);
    this.fetched.set(digest, data);
    this.noteDescriptors(data);
    return data;
  }

  /** A manifest or index read names the sizes of what it points to, for later checks. */
  private noteDescriptors(data: Uint8Array): void {
    if (data[0] !== 0x7b) return; // not JSON
    try {
      const doc = JSON.parse(new TextDecoder().decode(data)) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
      for (const d of [doc.config, ...(doc.layers ?? []), ...(doc.manifests ?? [])]) {
        if (d && typeof d.digest === 'string' && typeof d.size === 'number') this.sizes.set(d.digest, d.size);
      }
    } catch {
      // a config or a JSON-looking layer: nothing to learn
    }
  }

  readStream(digest: string): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (c) => {
        c.enqueue(await this.readBytes(digest));
        c.close();
      },
    });
  }

  // ---- Ingester and ContentManager: the page's own blobs ------------------------

  writeBytes(data: Uint8Array, expected?: Expected): Promise<BlobInfo> {
    return this.local.writeBytes(data, expected);
  }

  writeStream(stream: ReadableStream<Uint8Array>, expected?: Expected, options?: { signal?: AbortSignal }): Promise<BlobInfo> {
    return this.local.writeStream(stream, expected, options);
  }

  async delete(digest: string): Promise<void> {
    await this.local.delete(digest);
    this.fetched.delete(digest);
  }

  async *list(): AsyncIterable<BlobInfo> {
    const seen = new Set<string>();
    for await (const b of this.local.list()) {
      seen.add(b.digest);
      yield b;
    }
    for (const [digest, data] of this.fetched) if (!seen.has(digest)) yield { digest, size: data.length };
  }
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
}
