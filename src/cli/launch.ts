// How bin/tether.js runs the CLI bundled by scripts/bundle-cli.js: `serve` from one CommonJS file
// (dist/bundle/serve.cjs) compiled with a V8 code cache made at build time, every other command from
// the ES module chunks (dist/bundle/main.js and the chunks it imports).
//
// Why: most of `tether serve`'s start-up was V8 compiling the code it loads; Node 20 offers no code
// cache for ES modules (module.enableCompileCache is Node 22), but vm.Script takes one. The cache is
// made by `npm run build` (scripts/bundle-cli.js runs `serve` once and saves what V8 compiled).
//
// Why in dist/ and not in a per-user cache directory: cached data is code V8 runs without checking
// it against the source. Next to the bundle it is exactly as trusted as the bundle itself (whoever
// can write one can write the other), and nothing writes executable data at run time. A cache from
// another Node or V8 version (or flags) is rejected by V8 and the source is compiled as usual.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { buildIdOf, packCache, unpackCache } from './code-cache-format.js';

/** Every command but `serve`: ES modules split into chunks, each command's loaded when it runs. */
export const MAIN_BUNDLE = 'main.js';
/** `serve`: the same CLI as one CommonJS file, run with its code cache. */
export const SERVE_BUNDLE = 'serve.cjs';
export const SERVE_CACHE = 'serve.v8cache';

/** accepted / rejected by V8; none: no cache file; off: not used (TETHER_CODE_CACHE=off, or writing one). */
export type CacheState = 'accepted' | 'rejected' | 'none' | 'off';

/**
 * Runs the CLI bundled in `dir` for `argv`. A short command loads a few small chunks, and a cache
 * would cost it more to read than it saves (measured: `npm run bench`), so only `serve` uses one.
 */
export async function launch(dir: string, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<CacheState | null> {
  if (argv[2] === 'serve') return runWithCodeCache(path.join(dir, SERVE_BUNDLE), path.join(dir, SERVE_CACHE), env);
  await import(pathToFileURL(path.join(dir, MAIN_BUNDLE)).href);
  return null;
}

/**
 * Environment: TETHER_CODE_CACHE=off compiles from source (a cold start, for the bench);
 * TETHER_CODE_CACHE=report says on stderr whether the cache was used; TETHER_CODE_CACHE_WRITE=<file>
 * (the build) compiles from source and saves the code cache to <file> when the process exits. The
 * last is removed from the environment at once, so no process the server starts (a terminal's
 * shell, a command) inherits it.
 */
export function runWithCodeCache(file: string, cache: string, env: NodeJS.ProcessEnv = process.env): CacheState {
  const source = fs.readFileSync(file, 'utf8');
  const writeTo = env.TETHER_CODE_CACHE_WRITE;
  delete env.TETHER_CODE_CACHE_WRITE;
  const mode = env.TETHER_CODE_CACHE;

  const buildId = buildIdOf(source);
  let state: CacheState = writeTo || mode === 'off' ? 'off' : 'none';
  let why = '';
  let cachedData: Buffer | undefined;
  const packed = state === 'none' && buildId ? readIfPresent(cache) : undefined;
  if (packed && buildId) {
    const u = unpackCache(buildId, packed);
    if ('data' in u) cachedData = u.data;
    else [state, why] = ['rejected', u.refused];
  }
  // CommonJS's own wrapper, so the bundle sees exactly what a required module would.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData && { cachedData }),
    // No importModuleDynamically: Node 20 loses it on functions that come from a code cache, so the
    // bundle has no import() at all (the build refuses one) and fails the same way warm or cold.
  });
  if (cachedData) [state, why] = script.cachedDataRejected ? ['rejected', 'by V8 (another Node, V8 or flags)'] : ['accepted', ''];
  if (mode === 'report') process.stderr.write(`tether: code cache: ${state}${why && ` (${why})`}\n`);
  // At exit, so the cache holds every function compiled up to then, not only the top level.
  if (writeTo && buildId) process.once('exit', () => writeAtomically(writeTo, packCache(buildId, script.createCachedData())));

  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const mod = { exports: {} };
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return state;
}

function readIfPresent(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    // No cache (a build without one, or removed): compile from source. Anything else is worth a word.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') process.stderr.write(`tether: code cache ${file} not read (${(err as Error).message})\n`);
    return undefined;
  }
}

/** Whole or not at all: a reader never sees half a cache. */
function writeAtomically(file: string, data: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data, { mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    // The build checks that each cache exists and is accepted (scripts/bundle-cli.js).
    process.stderr.write(`tether: could not write the code cache ${file}: ${(err as Error).message}\n`);
  }
}
