/**
 * Records of what Node cannot make (overlay whiteouts and opaque markers,
 * device nodes, FIFOs, extended attributes), collected while unpacking and
 * applied in one `skiff-runtime apply-special` run.
 */
import { runHelper } from '../process/helper.js';

const enc = new TextEncoder();

export class SpecialFiles {
  private parts: Uint8Array[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  private add(...fields: string[]): void {
    for (const f of fields) {
      this.parts.push(enc.encode(f));
      this.parts.push(new Uint8Array(1));
    }
    this.count++;
  }

  whiteout(path: string): void { this.add('w', path); }
  opaque(dir: string): void { this.add('o', dir); }
  device(kind: 'c' | 'b', path: string, mode: number, major: number, minor: number, uid: number, gid: number): void {
    this.add(kind, path, (mode & 0o7777).toString(8), String(major), String(minor), String(uid), String(gid));
  }
  fifo(path: string, mode: number, uid: number, gid: number): void { this.add('p', path, (mode & 0o7777).toString(8), String(uid), String(gid)); }
  xattr(path: string, name: string, value: Uint8Array): void { this.add('x', path, name, Buffer.from(value).toString('hex')); }

  /** Applies everything below root; a no-op without records. */
  async apply(helper: string, root: string): Promise<void> {
    if (this.count === 0) return;
    await runHelper(helper, ['apply-special', root], Buffer.concat(this.parts));
    this.parts = [];
    this.count = 0;
  }
}
