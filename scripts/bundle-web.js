// Bundles the browser libraries the web UI uses (CodeMirror, markdown-it, highlight.js) into
// dist/web/, one ES module per entry in src/web/bundles. They are build-time dependencies: the
// server serves only these files (see BUNDLES in src/server/routes/web.ts), never node_modules.
// Run by `npm run build`; esbuild's JS API, no binary download (the platform binary ships in npm).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRIES = ['editor', 'markdown'];

await build({
  entryPoints: Object.fromEntries(ENTRIES.map((name) => [name, path.join(root, 'src', 'web', 'bundles', `${name}.js`)])),
  outdir: path.join(root, 'dist', 'web'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
