// How the web UI's files are found and served, without a browser.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findWebDir, registerWeb, webFileTable } from '../../src/server/routes/web.js';
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
  it('nowhere: null', () => {
    expect(findWebDir(pathToFileURL('/nonexistent/a/b/c/web.js').href)).toBeNull();
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
    for (const key of table.keys()) expect(key).toMatch(/^\/$|^\/ui(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/);
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
});
