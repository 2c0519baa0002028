/**
 * Checks that a build script rebuilds the committed .wasm files byte for
 * byte. Where clang is missing the check is skipped, except under CI=true,
 * where it fails and says what to install. A different toolchain (recorded
 * in TOOLCHAIN beside the binaries) cannot give the same bytes: skipped
 * locally with the reason, failed under CI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

export const hasClang = spawnSync('clang', ['--version']).status === 0;
export const ci = process.env.CI === 'true';
export const CLANG_MISSING = 'clang is missing: run scripts/setup-test-deps.sh (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)';

/** Returns a reason to skip, or undefined when the check ran (and passed). */
export function checkReproducibleBuild(buildScript: string, binDir: string): string | undefined {
  if (!hasClang) {
    if (ci) throw new Error(CLANG_MISSING);
    return CLANG_MISSING;
  }
  const out = mkdtempSync(join(tmpdir(), 'skiff-rebuild-'));
  try {
    const r = spawnSync('bash', [buildScript, out], { encoding: 'utf8' });
    expect(r.status, `${buildScript} failed:\n${r.stderr}`).toBe(0);
    const committedToolchain = readFileSync(join(binDir, 'TOOLCHAIN'), 'utf8');
    const toolchain = readFileSync(join(out, 'TOOLCHAIN'), 'utf8');
    if (toolchain !== committedToolchain) {
      const msg = `the committed binaries in ${binDir} were built with\n${committedToolchain}this machine has\n${toolchain}(rebuild with ${buildScript} and commit, or use that toolchain)`;
      if (ci) throw new Error(msg);
      return msg;
    }
    const wasm = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort();
    expect(wasm(out)).toEqual(wasm(binDir));
    for (const f of wasm(out)) {
      const same = Buffer.compare(readFileSync(join(out, f)), readFileSync(join(binDir, f))) === 0;
      expect(same, `${f} differs from a rebuild: run ${buildScript} and commit ${binDir}`).toBe(true);
    }
    return undefined;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Temp directories for one test file, removed after its tests. */
export function useTempDirs(): (prefix: string) => string {
  const temps: string[] = [];
  afterAll(() => {
    for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return (prefix) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    temps.push(d);
    return d;
  };
}
