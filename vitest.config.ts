import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests run against the TypeScript sources of every workspace package.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@skiff\/sdk\/node$/, replacement: src('./sdk/src/node/index.ts') },
      { find: /^@skiff\/sdk\/memory$/, replacement: src('./sdk/src/memory.ts') },
      { find: /^@skiff\/sdk\/testing$/, replacement: src('./sdk/src/testing/index.ts') },
      { find: /^@skiff\/sdk$/, replacement: src('./sdk/src/index.ts') },
      { find: /^@skiff\/runtime-wasm\/worker$/, replacement: src('./runtime-wasm/src/worker.ts') },
      { find: /^@skiff\/runtime-wasm\/browser$/, replacement: src('./runtime-wasm/src/browser/index.ts') },
      { find: /^@skiff\/runtime-wasm\/node$/, replacement: src('./runtime-wasm/src/node.ts') },
      { find: /^@skiff\/runtime-wasm$/, replacement: src('./runtime-wasm/src/index.ts') },
      { find: /^@skiff\/runtime-linux$/, replacement: src('./runtime-linux/src/index.ts') },
    ],
  },
  test: {
    include: ['{sdk,runtime-wasm,runtime-linux,bench}/{src,test}/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
