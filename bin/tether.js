#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ and bundled into dist/bundle/ (scripts/bundle-cli.js),
// both by `npm install` via `prepare` (`npm run build`).
import('../dist/bundle/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle/main.js')) {
    process.stderr.write('tether: not built yet; run `npm run build` (or `npm install`) first\n');
    process.exit(1);
  }
  throw err;
});
