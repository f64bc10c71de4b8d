// Runs `serve`'s bundle (dist/bundle/serve.cjs) through vm.Script with the V8 code cache the build
// made (scripts/bundle-cli.js); launch.ts says why, and loads this module for `serve` only, so
// other commands never load node:vm or node:zlib.
//
// Why the cache is in dist/ and not in a per-user cache directory: cached data is code V8 runs
// without checking it against the source. Next to the bundle it is exactly as trusted as the bundle
// itself (whoever can write one can write the other), and nothing writes executable data at run
// time. A cache from another Node or V8 version (or flags) is rejected by V8 and the source is
// compiled as usual; one that is damaged or of another build never reaches V8 (code-cache-format.ts).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { buildIdOf, packCache, unpackCache } from './code-cache-format.js';

/** accepted / rejected; none: no cache file; off: not used (TETHER_CODE_CACHE=off, or writing one). */
export type CacheState = 'accepted' | 'rejected' | 'none' | 'off';

interface Found {
  state: CacheState;
  why?: string;
  data?: Buffer;
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

  const found: Found = writeTo || mode === 'off' ? { state: 'off' } : cachedFor(buildId, cache);
  // CommonJS's own wrapper, so the bundle sees exactly what a required module would. No
  // importModuleDynamically: Node 20 loses it on functions that come from a code cache, so the
  // bundle has no import() at all (the build refuses one) and fails the same way warm or cold.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(found.data && { cachedData: found.data }),
  });
  const { state, why } = found.data && script.cachedDataRejected ? { state: 'rejected' as const, why: 'by V8 (another Node, V8 or flags)' } : found;
  if (mode === 'report') process.stderr.write(`tether: code cache: ${state}${why ? ` (${why})` : ''}\n`);
  // At exit, so the cache holds every function compiled up to then, not only the top level.
  if (writeTo && buildId) process.once('exit', () => writeAtomically(writeTo, packCache(buildId, script.createCachedData())));

  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const mod = { exports: {} };
  run.call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file));
  return state;
}

/** The cache's data for this build (accepted unless V8 then refuses it), or why there is none. */
function cachedFor(buildId: string | null, cache: string): Found {
  const packed = buildId === null ? undefined : readIfPresent(cache);
  if (buildId === null || packed === undefined) return { state: 'none' };
  const u = unpackCache(buildId, packed);
  return 'data' in u ? { state: 'accepted', data: u.data } : { state: 'rejected', why: u.refused };
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
    // The build checks that the cache exists and is accepted (scripts/bundle-cli.js).
    process.stderr.write(`tether: could not write the code cache ${file}: ${(err as Error).message}\n`);
  }
}
