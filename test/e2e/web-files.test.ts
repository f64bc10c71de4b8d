// How the web UI's files are found and served, without a browser.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBundleDir, findWebDir, registerWeb, webFileTable } from '../../src/server/routes/web.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const root = path.resolve(import.meta.dirname, '../..');
const srcWeb = path.join(root, 'src', 'web') + path.sep;

describe('finding src/web', () => {
  it('from the source tree (tsx, vitest)', () => {
    expect(findWebDir(pathToFileURL(path.join(root, 'src/server/routes/web.ts')).href)).toBe(srcWeb);
  });
  it('from dist/ in a checkout built by `npm start` (tsc does not copy src/web)', () => {
    expect(findWebDir(pathToFileURL(path.join(root, 'dist/server/routes/web.js')).href)).toBe(srcWeb);
  });
  it('from the CLI bundles in dist/bundle/, which bin/tether.js runs (a chunk, and serve.cjs)', () => {
    expect(findWebDir(pathToFileURL(path.join(root, 'dist/bundle/chunk-X.js')).href)).toBe(srcWeb);
    expect(findWebDir(pathToFileURL(path.join(root, 'dist/bundle/serve.cjs')).href)).toBe(srcWeb);
  });
  it('nowhere: null', () => {
    expect(findWebDir(pathToFileURL('/nonexistent/a/b/c/web.js').href)).toBeNull();
  });
});

describe('finding the browser bundles (dist/web)', () => {
  const distWeb = path.join(root, 'dist', 'web') + path.sep;
  it('from the source tree, from dist/server/routes/ and from the CLI bundle', () => {
    for (const from of ['src/server/routes/web.ts', 'dist/server/routes/web.js', 'dist/bundle/chunk-X.js', 'dist/bundle/serve.cjs']) {
      expect(findBundleDir(pathToFileURL(path.join(root, from)).href)).toBe(distWeb);
    }
    expect(findBundleDir(pathToFileURL('/nonexistent/a/b/c/web.js').href)).toBeNull();
  });
});

describe('the file table', () => {
  it('maps fixed URL paths to files: the UI files, index.html at /, and the vendor files', () => {
    const table = webFileTable(srcWeb, (id) => `/node_modules/${id}`);
    expect(table.get('/')!.file).toBe(path.join(srcWeb, 'index.html'));
    expect(table.get('/ui/app.js')!.type).toBe('text/javascript; charset=utf-8');
    expect(table.get('/ui/vendor/xterm.mjs')!.file).toBe('/node_modules/@xterm/xterm/lib/xterm.mjs');
    expect(table.get('/ui/vendor/addon-fit.mjs')!.file).toBe('/node_modules/@xterm/addon-fit/lib/addon-fit.mjs');
    expect(table.get('/ui/vendor/xterm.css')!.type).toBe('text/css; charset=utf-8');
    // The share page (README "Share links") and the pairing page are the public pages besides /.
    expect(table.get('/share')!.file).toBe(path.join(srcWeb, 'share.html'));
    expect(table.get('/pair')!.file).toBe(path.join(srcWeb, 'pair.html'));
    for (const key of table.keys()) expect(key).toMatch(/^\/$|^\/share$|^\/pair$|^\/ui(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/);
  });

  it('serves every ES module of src/web/modules as /ui/modules/<name>, and no type-only file', () => {
    const table = webFileTable(srcWeb, (id) => `/node_modules/${id}`);
    const modules = fs.readdirSync(path.join(srcWeb, 'modules')).filter((n) => n.endsWith('.js'));
    expect(modules).toContain('sse.js');
    for (const name of modules) {
      expect(table.get(`/ui/modules/${name}`), name).toEqual({ file: path.join(srcWeb, 'modules', name), type: 'text/javascript; charset=utf-8' });
    }
    for (const key of ['/ui/tsconfig.json', '/ui/types.d.ts', '/ui/vendor/xterm.d.mts', '/ui/vendor/addon-fit.d.mts']) expect(table.has(key), key).toBe(false);
  });

  it('every import of every served script is a relative URL that the table answers', () => {
    const table = webFileTable(srcWeb, (id) => `/node_modules/${id}`);
    const scripts = [...table.entries()].filter(([key, e]) => key.startsWith('/ui/') && !key.startsWith('/ui/vendor/') && e.type.startsWith('text/javascript'));
    expect(scripts.map(([key]) => key)).toContain('/ui/app.js');
    let imports = 0;
    for (const [key, entry] of scripts) {
      const text = fs.readFileSync(entry.file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:import\s+(?:[\w*{}\s,]+?\s+from\s+)?|export\s+(?:\*|\{[^}]*\})\s+from\s+)['"]([^'"]+)['"]/gm)) {
        const spec = m[1];
        expect(spec, `${key} imports ${spec}`).toMatch(/^\.\.?\//);
        const url = new URL(spec, `http://ui.test${key}`);
        expect(table.has(url.pathname), `${key} imports ${spec} (${url.pathname})`).toBe(true);
        imports++;
      }
    }
    expect(imports).toBeGreaterThan(20);
  });

  it('no web file is longer than 400 lines', () => {
    for (const dir of [srcWeb, path.join(srcWeb, 'modules')]) {
      for (const name of fs.readdirSync(dir).filter((n) => /\.(js|css|html)$/.test(n))) {
        const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n').length;
        expect(lines, name).toBeLessThanOrEqual(400);
      }
    }
  });

  it('takes only regular files with public names, from src/web and src/web/modules, not deeper, not other folders', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-web-'));
    try {
      const put = (rel: string, text = 'x') => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      };
      put('index.html');
      put('app.js');
      put('modules/a.js');
      put('modules/b.css');
      put('modules/.hidden.js');
      put('modules/notes.txt');
      put('modules/deeper/c.js');
      put('other/d.js');
      put('vendor/xterm.mjs', 'not the real one');
      fs.symlinkSync('/etc/passwd', path.join(dir, 'modules', 'link.js'));
      fs.symlinkSync(path.join(dir, 'other'), path.join(dir, 'modules', 'dirlink'));
      const table = webFileTable(dir, (id) => `/node_modules/${id}`);
      expect([...table.keys()].sort()).toEqual(
        [
          '/',
          '/ui/app.js',
          '/ui/index.html',
          '/ui/modules/a.js',
          '/ui/modules/b.css',
          ...['addon-fit.mjs', 'addon-fit.mjs.map', 'xterm.css', 'xterm.mjs', 'xterm.mjs.map'].map((n) => `/ui/vendor/${n}`),
        ].sort(),
      );
      // The vendor names are node_modules files, whatever src/web holds.
      expect(table.get('/ui/vendor/xterm.mjs')!.file).toBe('/node_modules/@xterm/xterm/lib/xterm.mjs');
      // Without a modules folder: the top-level files still.
      fs.rmSync(path.join(dir, 'modules'), { recursive: true });
      expect(webFileTable(dir, (id) => `/node_modules/${id}`).has('/ui/app.js')).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serving', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ registrars: [registerWeb] });
  });
  afterAll(() => s.close());

  it('HEAD / answers like GET, without a body and without a token', async () => {
    const r = await fetch(s.url + '/', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await r.text()).toBe('');
  });

  it('other methods on UI paths need a token (the guard), and unknown UI files are 404', async () => {
    expect((await fetch(s.url + '/', { method: 'POST' })).status).toBe(401);
    expect((await fetch(s.url + '/ui/missing.js')).status).toBe(404);
    expect((await fetch(s.url + '/ui/.hidden')).status).toBe(401); // not a public UI path at all
  });

  it('serves the modules, and nothing else under /ui/modules', async () => {
    const r = await fetch(s.url + '/ui/modules/sse.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await r.text()).toContain('export class SseParser');
    for (const p of [
      '/ui/modules',
      '/ui/modules/nope.js',
      '/ui/modules/deeper/a.js',
      '/ui/modules/%2e%2e/%2e%2e/package.json',
      '/ui/modules/x/../../../package.json',
      '/ui/modules/sse.js/',
    ]) {
      const r = await fetch(s.url + p);
      // (A trailing slash is dropped by the canonical path: that one is the module itself.)
      if (p.endsWith('/')) expect(r.status, p).toBe(200);
      else expect([401, 404], p).toContain(r.status);
    }
    // `..` is resolved in the canonical path before the lookup: it can only land on another key.
    const viaDots = await fetch(s.url + '/ui/modules/..%2fapp.js');
    expect(await viaDots.text()).toBe(await (await fetch(s.url + '/ui/app.js')).text());
  });
});
