#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run automatically by `npm ci`).
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    process.stderr.write('skiff: the CLI is not built yet; run `npm run build` in the skiff checkout\n');
    process.exit(125);
  }
  throw err;
});
