/**
 * The WASI workload programs (bench/src/peers/wasm, rebuilt by
 * bench/scripts/build-wasm.sh), found from the source tree or the bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench package's folder, from wherever this code was bundled to. */
export function benchRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === '@skiff/bench') return d;
    const up = dirname(d);
    if (up === d) throw new Error(`cannot find the @skiff/bench package folder above ${fileURLToPath(import.meta.url)}`);
    d = up;
  }
}

export type WasmProgram = 'wasibench' | 'sqlitebench';

export function programBytes(name: WasmProgram): Uint8Array {
  const p = join(benchRoot(), 'src', 'peers', 'wasm', `${name}.wasm`);
  if (!existsSync(p)) throw new Error(`${p} is missing: run bench/scripts/build-wasm.sh`);
  return new Uint8Array(readFileSync(p));
}

/**
 * The module with a custom section appended that holds `tag`: the same code,
 * different bytes, so V8's in-process cache of compiled modules misses and a
 * "cold" compile is really cold.
 */
export function withUniqueTag(bytes: Uint8Array, tag: string): Uint8Array {
  const name = new TextEncoder().encode('skiff-bench');
  const payload = new TextEncoder().encode(tag);
  const nameLen = leb(name.length);
  const head = [0, ...leb(nameLen.length + name.length + payload.length), ...nameLen];
  const out = new Uint8Array(bytes.length + head.length + name.length + payload.length);
  out.set(bytes, 0);
  out.set(head, bytes.length);
  out.set(name, bytes.length + head.length);
  out.set(payload, bytes.length + head.length + name.length);
  return out;
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
