// How bin/tether.js runs the CLI bundled by scripts/bundle-cli.js: `serve` from one CommonJS file
// (dist/bundle/serve.cjs) compiled with a V8 code cache made at build time (code-cache.ts), every
// other command from the ES module chunks (dist/bundle/main.js and the chunks it imports).
//
// Why: most of `tether serve`'s start-up was V8 compiling the code it loads; Node 20 offers no code
// cache for ES modules (module.enableCompileCache is Node 22), but vm.Script takes one. A short
// command loads a few small chunks, while a cache holds the whole CLI: reading one cost `auth token
// list` more than it saved when tried, so only `serve` uses it.
//
// Every command loads this module: it imports nothing but what Node has loaded already.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CacheState } from './code-cache.js';

export const MAIN_BUNDLE = 'main.js';
export const SERVE_BUNDLE = 'serve.cjs';
export const SERVE_CACHE = 'serve.v8cache';

/** Runs the CLI bundled in `dir` for `argv`: for `serve`, what became of its code cache. */
export async function launch(dir: string, argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): Promise<CacheState | null> {
  if (argv[2] === 'serve') {
    const { runWithCodeCache } = await import('./code-cache.js');
    return runWithCodeCache(path.join(dir, SERVE_BUNDLE), path.join(dir, SERVE_CACHE), env);
  }
  await import(pathToFileURL(path.join(dir, MAIN_BUNDLE)).href);
  return null;
}
