#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ and bundled into dist/bundle/ (serve with a V8 code
// cache; scripts/bundle-cli.js), both by `npm install` via `prepare` (`npm run build`); the
// bundle is run by dist/cli/launch.js (src/cli/launch.ts).
import { fileURLToPath } from 'node:url';

import('../dist/cli/launch.js')
  .then((m) => m.launch(fileURLToPath(new URL('../dist/bundle/', import.meta.url))))
  .catch((err) => {
    const missing =
      (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(cli\/launch|bundle\/main)\.js/.test(String(err.message))) ||
      (err && err.code === 'ENOENT' && String(err.path).endsWith('serve.cjs'));
    if (missing) {
      process.stderr.write('tether: not built yet; run `npm run build` (or `npm install`) first\n');
      process.exit(1);
    }
    throw err;
  });
