// Bundles the compiled CLI (dist/cli/main.js, from tsc) and what it imports into dist/bundle/, the
// code bin/tether.js runs. Start-up cost is mostly Node resolving, reading and compiling hundreds of
// small ES modules (`tether serve` loaded 289 before its first answer); as a few files it starts in
// about 70 % of the time (`npm run bench`, cli rows). Lazy imports stay lazy: each dynamic
// import() becomes its own chunk (the MCP SDK, the model SDK, each command's module).
// Native modules and their loaders stay outside, loaded from node_modules as before.
// Run by `npm run build`; esbuild's JS API, no binary download (the platform binary ships in npm).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');

// Chunk names carry content hashes: clear old ones so dist/bundle holds exactly this build.
fs.rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: path.join(root, 'dist', 'cli', 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Whitespace and syntax only: identifiers keep their names (error classes and stack traces).
  minifyWhitespace: true,
  minifySyntax: true,
  // Native addons (loaded through their own `bindings` lookups) and ws's optional native helpers.
  external: ['better-sqlite3', 'node-pty', 'bufferutil', 'utf-8-validate'],
  // Bundled CommonJS packages call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __tetherCreateRequire } from 'node:module'; const require = __tetherCreateRequire(import.meta.url);" },
  // Which sources went into which chunk (test/perf/lazy-start.test.ts checks what start-up loads).
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});
fs.writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
