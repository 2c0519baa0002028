import { describe, it, expect } from 'vitest';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const sdkEntry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

describe('the isomorphic sdk core', () => {
  it('bundles for the browser with no node: import', async () => {
    const imports: string[] = [];
    const result = await build({
      entryPoints: [sdkEntry],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
      plugins: [{
        name: 'no-node-builtins',
        setup(b) {
          b.onResolve({ filter: /^node:|^(fs|path|os|crypto|child_process|stream|net|http)$/ }, (args) => {
            imports.push(`${args.path} (from ${args.importer})`);
            return { path: args.path, external: true };
          });
        },
      }],
    });
    expect(imports).toEqual([]);
    expect(result.outputFiles[0]!.text.length).toBeGreaterThan(1000);
  });
});
