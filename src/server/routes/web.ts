// The web UI: `GET /` (index.html), `GET /share` (share.html), `GET /pair` (pair.html, the page a
// pairing link opens) and `GET /ui/<name>`, public (no token: the login page must load
// without one; see PUBLIC_ROUTES in auth/policy.ts) and holding no data. Files come from a fixed
// table of URL paths to files, built once when the routes are registered: the files of src/web and
// of its one subfolder of ES modules, src/web/modules (by extension, not recursively), and the
// vendor files from node_modules. A request path is only ever a key into that table, never joined
// onto the file system.
//
// Where src/web is at run time: next to this module's directory when running from source (tsx,
// vitest: src/server/routes -> src/web), else in the checkout beside dist/ (dist/server/routes ->
// ../../../src/web), which is where a fresh clone built by `npm start` has it. tsc does not copy
// src/web (tsconfig excludes it); the browser libraries are bundled into dist/web by
// scripts/bundle-web.js (`npm run build`) and served from there.
//
// Headers: a content type per extension, `Cache-Control: no-cache` with a strong ETag (a reload
// revalidates, an unchanged file answers 304). browser-safety adds nosniff and the strict HTML CSP.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ServerContext } from '../context.js';
import { errorJson } from '../http-errors.js';

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
  ['.woff2', 'font/woff2'],
  ['.map', 'application/json; charset=utf-8'],
]);

/** URL path (under /ui/vendor/) -> module path resolved from node_modules. */
const VENDOR: ReadonlyArray<readonly [string, string]> = [
  ['xterm.mjs', '@xterm/xterm/lib/xterm.mjs'],
  ['xterm.mjs.map', '@xterm/xterm/lib/xterm.mjs.map'],
  ['xterm.css', '@xterm/xterm/css/xterm.css'],
  ['addon-fit.mjs', '@xterm/addon-fit/lib/addon-fit.mjs'],
  ['addon-fit.mjs.map', '@xterm/addon-fit/lib/addon-fit.mjs.map'],
];

/** URL path (under /ui/vendor/) -> file in dist/web, built by scripts/bundle-web.js from src/web/bundles. */
const BUNDLES: readonly string[] = ['editor.js', 'editor.js.map', 'markdown.js', 'markdown.js.map'];

/** Candidate locations of dist/web (the bundles), relative to this module: from source, from
 * dist/server/routes/, then from the CLI bundle (dist/bundle/, scripts/bundle-cli.js). */
const BUNDLE_DIR_CANDIDATES = ['../../../dist/web/', '../../web/', '../web/'];

/** Finds the directory holding the built bundles, or null. */
export function findBundleDir(from: string = import.meta.url): string | null {
  for (const rel of BUNDLE_DIR_CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, from));
    if (fs.existsSync(path.join(dir, 'editor.js'))) return dir;
  }
  return null;
}

/** The folders of src/web that are served, each as /ui/<folder>/<name> ('' is src/web itself).
 * A fixed list: a new folder is served only once it is named here. */
const SERVED_DIRS: readonly string[] = ['', 'modules'];

/** Names the public-route pattern admits (no leading dot). */
const SERVED_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Candidate locations of src/web, relative to this module (source first, then from
 * dist/server/routes/, then from the CLI bundle in dist/bundle/). */
const WEB_DIR_CANDIDATES = ['../../web/', '../../../src/web/', '../../src/web/'];

export interface WebFile {
  file: string;
  type: string;
}

/** Finds the directory holding the UI's index.html, or null. */
export function findWebDir(from: string = import.meta.url): string | null {
  for (const rel of WEB_DIR_CANDIDATES) {
    const dir = fileURLToPath(new URL(rel, from));
    if (fs.existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return null;
}

/** The table of URL paths to files. `/` is index.html. */
export function webFileTable(webDir: string, resolveModule: (id: string) => string, bundleDir: string | null = null): Map<string, WebFile> {
  const table = new Map<string, WebFile>();
  for (const sub of SERVED_DIRS) {
    const dir = path.join(webDir, sub);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if (sub === '') throw err;
      continue; // an optional folder that is not there
    }
    for (const d of entries) {
      const type = TYPES.get(path.extname(d.name).toLowerCase());
      // Regular files only (a symlink is not followed), with names the public-route pattern admits.
      if (!d.isFile() || type === undefined || !SERVED_NAME.test(d.name)) continue;
      table.set(sub ? `/ui/${sub}/${d.name}` : `/ui/${d.name}`, { file: path.join(dir, d.name), type });
    }
  }
  const index = table.get('/ui/index.html');
  if (index) table.set('/', index);
  // The share page (README "Share links"): public and static like the login page.
  const share = table.get('/ui/share.html');
  if (share) table.set('/share', share);
  const pair = table.get('/ui/pair.html');
  if (pair) table.set('/pair', pair);
  for (const [name, id] of VENDOR) {
    let file: string;
    try {
      file = resolveModule(id);
    } catch {
      continue; // A missing source map or package: reported by the check below for what matters.
    }
    table.set(`/ui/vendor/${name}`, { file, type: TYPES.get(path.extname(name))! });
  }
  if (bundleDir !== null) {
    for (const name of BUNDLES) table.set(`/ui/vendor/${name}`, { file: path.join(bundleDir, name), type: TYPES.get(path.extname(name))! });
  }
  return table;
}

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  etag: string;
}

export function registerWeb(app: OpenAPIHono, ctx: ServerContext): void {
  const webDir = findWebDir();
  const require = createRequire(import.meta.url);
  const table = webDir ? webFileTable(webDir, (id) => require.resolve(id), findBundleDir()) : new Map<string, WebFile>();
  const missing =
    webDir === null
      ? ['src/web/index.html']
      : ['/ui/vendor/xterm.mjs', '/ui/vendor/addon-fit.mjs', '/ui/vendor/xterm.css', '/ui/vendor/editor.js', '/ui/vendor/markdown.js'].filter(
          (p) => !table.has(p),
        );
  if (missing.length > 0)
    ctx.log.log('error', 'web.files_missing', { missing, note: 'the web UI will not work; rebuild (npm run build) or reinstall tether (npm install)' });

  // Read on first use and re-read when the file changes (a stat per request: edits show on reload).
  const cache = new Map<string, Cached>();
  const load = async (entry: WebFile): Promise<Cached> => {
    const st = await fs.promises.stat(entry.file);
    const hit = cache.get(entry.file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await fs.promises.readFile(entry.file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const fresh = { mtimeMs: st.mtimeMs, size: st.size, body, etag };
    cache.set(entry.file, fresh);
    return fresh;
  };

  const serve = async (c: Context) => {
    const entry = table.get(c.req.path);
    if (!entry) {
      if (c.req.path === '/' && missing.length > 0) {
        return errorJson(c, 503, 'web_ui_missing', `the web UI files were not found (${missing.join(', ')}); reinstall tether`);
      }
      return errorJson(c, 404, 'not_found', `no web UI file ${c.req.path}`);
    }
    let file: Cached;
    try {
      file = await load(entry);
    } catch {
      ctx.log.log('error', 'web.file_unreadable', { file: entry.file });
      return errorJson(c, 500, 'web_ui_unreadable', `the web UI file for ${c.req.path} cannot be read (see the server log)`);
    }
    const headers: Record<string, string> = { 'content-type': entry.type, 'cache-control': 'no-cache', etag: file.etag };
    if (ifNoneMatch(c.req.header('if-none-match'), file.etag)) return c.body(null, 304, headers);
    return c.body(new Uint8Array(file.body), 200, headers);
  };

  app.get('/', serve);
  app.get('/share', serve);
  app.get('/pair', serve);
  app.get('/ui/*', serve);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || v === etag || v === `W/${etag}`;
  });
}
