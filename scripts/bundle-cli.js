// Bundles the compiled CLI (dist/cli/main.js, from tsc) and what it imports into dist/bundle/, the
// code bin/tether.js runs (through src/cli/launch.ts, which says why it runs which), twice:
//
// - main.js and its chunks, ES modules, for every command but `serve`. Start-up cost is mostly Node
//   reading and compiling modules (`tether serve` loaded 289 before its first answer); a few files
//   start in about 70 % of the time. Lazy imports stay lazy: each dynamic import() becomes its own
//   chunk (the MCP SDK, the model SDK, each command's module).
// - serve.cjs, the same CLI as one CommonJS file, with serve.v8cache: its V8 code cache, made by
//   a training run of `serve` in a throwaway home until it has answered, then checked to be accepted
//   by this Node. Lazy imports stay lazy here too: esbuild wraps each module in a function run on its
//   first import.
//
// Native modules and their loaders stay outside, loaded from node_modules. Run by `npm run build`;
// esbuild's JS API, no binary download (the platform binary ships in npm).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
// tsc has run (npm run build): the names and the build line come from the code that reads them.
import { buildLine } from '../dist/cli/code-cache-format.js';
import { SERVE_BUNDLE, SERVE_CACHE } from '../dist/cli/launch.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// commander requires node:child_process when it loads, for executable subcommands (a command
// run as a program of its own), which tether does not have. That require also loads net, dgram
// and more: about 2.4 ms of every command's start-up. Here it is deferred to its first use. A
// commander whose source no longer reads so fails the build, so the change cannot go unseen.
const EAGER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (!text.includes(EAGER_CHILD_PROCESS)) throw new Error(`${args.path} no longer has ${EAGER_CHILD_PROCESS} (scripts/bundle-cli.js defers it)`);
      const lazy = "let loadedChildProcess; const childProcess = { get spawn() { return (loadedChildProcess ??= require('node:child_process')).spawn; } };";
      return { contents: text.replace(EAGER_CHILD_PROCESS, lazy), loader: 'js' };
    });
  },
};
const outdir = path.join(root, 'dist', 'bundle');
const bin = path.join(root, 'bin', 'tether.js');
const common = {
  entryPoints: { main: path.join(root, 'dist', 'cli', 'main.js') },
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  // Whitespace and syntax only: identifiers keep their names (error classes and stack traces).
  minifyWhitespace: true,
  minifySyntax: true,
  // Native addons (loaded through their own `bindings` lookups) and ws's optional native helpers.
  external: ['better-sqlite3', 'node-pty', 'bufferutil', 'utf-8-validate'],
  legalComments: 'linked',
  logLevel: 'warning',
  plugins: [lazyChildProcess],
};

// Chunk names carry content hashes: clear old ones (and the old cache) so dist/bundle holds exactly this build.
fs.rmSync(outdir, { recursive: true, force: true });
const result = await build({
  ...common,
  outdir,
  splitting: true,
  format: 'esm',
  // Bundled CommonJS packages call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as __tetherCreateRequire } from 'node:module'; const require = __tetherCreateRequire(import.meta.url);" },
  // Which sources went into which chunk (test/perf/lazy-start.test.ts checks what start-up loads).
  metafile: true,
});
fs.writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));

const serveBundle = path.join(outdir, SERVE_BUNDLE);
await build({
  ...common,
  entryPoints: [common.entryPoints.main],
  outfile: serveBundle,
  format: 'cjs',
  // The sources find files next to themselves through import.meta.url: give them the bundle's own.
  define: { 'import.meta.url': '__tetherModuleUrl' },
  // The first line names this build: its code cache must come from the same one (code-cache-format.ts).
  banner: { js: `${buildLine(randomBytes(16).toString('hex'))}\nconst __tetherModuleUrl = require('node:url').pathToFileURL(__filename).href;` },
});
// import() inside a vm.Script needs a callback that Node 20 drops from functions restored from a
// code cache: the sources use require for what they load at run time (better-sqlite3, node-pty).
const dynamicImport = /\bimport\(\s*["'`]/.exec(fs.readFileSync(serveBundle, 'utf8'));
if (dynamicImport) throw new Error(`dist/bundle/serve.cjs has an import() (${dynamicImport[0]}...): load it with require instead (see src/cli/code-cache.ts)`);

// The training run, in a home of its own (no real config is read or written).
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-build-'));
try {
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_STATE_HOME: path.join(home, 'state'),
    NO_COLOR: '1',
  };
  delete env.TETHER_CODE_CACHE;
  const cacheFile = path.join(outdir, SERVE_CACHE);
  // Without a cache serve only starts slower: a failed training run is a warning, not a failed
  // install (test/cli/launch.test.ts fails on it, so it is not missed either).
  try {
    const created = execFileSync(process.execPath, [bin, 'auth', 'token', 'create', '--name', 'build', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await trainServe(env, JSON.parse(created.toString()).token, cacheFile, home);
    const r = spawnSync(process.execPath, [bin, 'serve', '--help'], { env: { ...env, TETHER_CODE_CACHE: 'report' }, encoding: 'utf8' });
    if (!r.stderr.includes('code cache: accepted')) throw new Error(`this Node does not accept it: ${r.stderr.trim()}`);
  } catch (err) {
    fs.rmSync(cacheFile, { force: true });
    process.stderr.write(`bundle-cli: warning: no code cache for serve (it starts slower): ${err.message}\n`);
  }
} finally {
  fs.rmSync(home, { recursive: true, force: true });
}

/** `serve` until it has answered /health and an authenticated request, then a clean stop. */
async function trainServe(env, token, cacheFile, home) {
  const project = path.join(home, 'project');
  fs.mkdirSync(project);
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--hostname', '127.0.0.1', '--project', project], {
    env: { ...env, TETHER_CODE_CACHE_WRITE: cacheFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('serve did not start within 30 s')), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      exited.then((code) => reject(new Error(`serve exited (${code}) before listening`)));
    });
    for (const [p, auth] of [
      ['/health', false],
      ['/auth/whoami', true],
    ]) {
      // One connection per request: nothing keeps this script alive once serve has stopped.
      const r = await fetch(url + p, { headers: { connection: 'close', ...(auth && { authorization: `Bearer ${token}` }) } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`serve answered ${p} with ${r.status}`);
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  if (!fs.existsSync(cacheFile)) throw new Error('serve did not write its code cache');
}
