// Scoped tokens against hostile paths: `..` and encoded traversal, sibling-prefix and case-variant
// directories, symlinks out of and into a scope, a scope replaced by a symlink after the token was
// made, a scope deleted after the token was made, a scope outside the project, and a path swapped
// for a symlink to a directory outside the scope (but inside the project, so only the scope stands
// in the way) while requests use it. Nothing outside a scope is ever returned or named.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/token-admin.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSwapper, type Swapper } from './helpers-swap.js';

const SECRET = 'SECRET-scope-4d1c';
let s: TestServer;
let elsewhere: string;
const token: Record<string, string> = {};
let swapper: Swapper | undefined;

const p = (rel: string) => path.join(s.project, rel);
async function get(tok: string, pathname: string): Promise<{ status: number; body: any; text: string }> {
  const r = await s.fetch(pathname, { token: tok });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, text };
}
async function post(tok: string, pathname: string, body: unknown = {}) {
  const r = await s.fetch(pathname, { method: 'POST', token: tok, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, text };
}
const outsideScope = (r: { status: number; body: any }) => r.status === 403 && r.body?.error?.code === 'outside_scope';
const names = (r: { body: any }) => r.body.entries.map((e: { name: string }) => e.name);

beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars() });
  for (const d of ['app/sub', 'app2', 'App', 'secret', 'moved', 'gone']) fs.mkdirSync(p(d), { recursive: true });
  fs.writeFileSync(p('app/a.txt'), 'inside needle\n');
  fs.writeFileSync(p('app2/b.txt'), `${SECRET} sibling\n`);
  fs.writeFileSync(p('App/c.txt'), `${SECRET} case\n`);
  fs.writeFileSync(p('secret/k.txt'), `${SECRET} key\n`);
  fs.writeFileSync(p('secret/only-secret.txt'), `${SECRET} named\n`);
  fs.writeFileSync(p('moved/m.txt'), 'moved needle\n');
  fs.symlinkSync('../secret', p('app/out'));
  fs.symlinkSync('../app2', p('app/sib'));
  fs.symlinkSync('app', p('in'));
  elsewhere = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-scope-far-')));
  fs.writeFileSync(path.join(elsewhere, 'far.txt'), `${SECRET} far\n`);
  fs.symlinkSync(elsewhere, p('far'));
  const make = async (name: string, scopes: string[]) =>
    (token[name] = (await createToken({ name, permissions: ['read', 'write', 'execute'], expiresAt: null, scopes }, s.env.tokenFile)).token);
  await make('app', [p('app')]);
  await make('moved', [p('moved')]);
  await make('gone', [p('gone')]);
  await make('far', [elsewhere]);
  fs.rmdirSync(p('gone'));
}, 60_000);
afterAll(async () => {
  await s?.close();
  fs.rmSync(elsewhere, { recursive: true, force: true });
});
afterEach(async () => {
  await swapper?.stop();
  swapper = undefined;
});

describe('traversal', () => {
  it('`..` in any spelling is judged where it lands: outside the scope is 403, and the secret never shows', async () => {
    for (const q of [
      'app/../secret/k.txt',
      'app/./../secret/k.txt',
      'app/sub/../../secret/k.txt',
      'app//..//secret/k.txt',
      `${s.project}/secret/k.txt`,
      `${s.project}/app/../secret/k.txt`,
      'app/../app2/b.txt',
    ]) {
      const r = await get(token.app, `/file/content?path=${encodeURIComponent(q)}`);
      expect(outsideScope(r), `${q}: ${r.text}`).toBe(true);
      expect(r.text).not.toContain(SECRET);
    }
  });

  it('percent-encoded traversal is decoded once and refused; double-encoded is a literal name inside the scope (404)', async () => {
    const port = Number(new URL(s.url).port);
    const raw = async (target: string) => {
      return rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token.app}\r\nConnection: close\r\n\r\n`);
    };
    for (const target of [
      '/file/content?path=app/%2e%2e/secret/k.txt',
      '/file/content?path=app%2F..%2Fsecret%2Fk.txt',
      '/file/content?path=app/%2E%2E%2Fsecret/k.txt',
    ]) {
      const r = await raw(target);
      expect(r.status, target).toBe(403);
      expect(r.body).toContain('outside_scope');
      expect(r.body).not.toContain(SECRET);
    }
    const literal = await raw('/file/content?path=app/%252e%252e/secret/k.txt');
    expect(literal.status).toBe(404);
    expect(literal.body).not.toContain(SECRET);
  });

  it('a listing of `app/..` is the way to the scope, nothing more', async () => {
    const r = await get(token.app, '/file?path=app/..');
    expect(r.status).toBe(200);
    expect(names(r)).toEqual(['app']);
  });
});

describe('siblings, case variants and symlinks', () => {
  it('a sibling whose name starts with the scope, and a case variant of it, are other directories', async () => {
    for (const q of ['app2/b.txt', 'App/c.txt', 'APP/a.txt']) expect(outsideScope(await get(token.app, `/file/content?path=${q}`)), q).toBe(true);
    for (const q of ['app2', 'App']) expect(outsideScope(await get(token.app, `/file?path=${q}`)), q).toBe(true);
    const root = await get(token.app, '/file?path=.');
    expect(names(root)).toEqual(['app']);
    for (const route of ['/find/file?query=b.txt', '/find/file?query=c.txt', `/find?pattern=${SECRET}`]) {
      const r = await get(token.app, route);
      expect(r.status).toBe(200);
      expect(r.body.results, route).toEqual([]);
    }
  });

  it('a symlink inside the scope leading out (to a secret, to the sibling) leads nowhere; one leading in is outside', async () => {
    for (const q of ['out/k.txt', 'sib/b.txt']) {
      const r = await get(token.app, `/file/content?path=app/${q}`);
      expect(outsideScope(r), q).toBe(true);
      expect(r.body.error.message).toMatch(/resolves \(through a symlink\) outside this token's scopes/);
    }
    // `in` -> app: an alias outside the scope's name; refused rather than followed.
    expect(outsideScope(await get(token.app, '/file/content?path=in/a.txt'))).toBe(true);
    // Inside, the listing shows the links as links (their names lie inside the scope).
    const app = await get(token.app, '/file?path=app');
    expect(app.body.entries.filter((e: { type: string }) => e.type === 'symlink').map((e: { name: string }) => e.name)).toEqual(['out', 'sib']);
    // No terminal or session starts through them.
    for (const cwd of ['app/out', 'app/sib', 'in']) {
      expect(outsideScope(await post(token.app, '/pty', { command: 'true', cwd })), cwd).toBe(true);
      expect(outsideScope(await post(token.app, '/session', { directory: cwd })), cwd).toBe(true);
    }
  });
});

describe('a scope that changes after the token was made', () => {
  it('replaced by a symlink to a secret: reaches nothing through it, and what was made there stops', async () => {
    expect((await get(token.moved, '/file/content?path=moved/m.txt')).status).toBe(200);
    const session = await post(token.moved, '/session', {});
    expect(session.body.directory).toBe(p('moved'));
    fs.renameSync(p('moved'), p('moved-old'));
    fs.symlinkSync('secret', p('moved'));
    for (const q of ['/file?path=moved', '/file/content?path=moved/k.txt', '/file/content?path=moved-old/m.txt']) {
      const r = await get(token.moved, q);
      expect(outsideScope(r), `${q}: ${r.text}`).toBe(true);
      expect(r.text).not.toContain(SECRET);
    }
    // The way to the scope is its name, now a symlink; nothing of the secret is named.
    const root = await get(token.moved, '/file?path=.');
    expect(root.body.entries).toEqual([{ name: 'moved', path: 'moved', type: 'symlink', size: null }]);
    for (const route of ['/find/file?query=k', `/find?pattern=${SECRET}`]) expect((await get(token.moved, route)).body.results, route).toEqual([]);
    // Nothing new starts there, and the default is refused naming the scope.
    const pty = await post(token.moved, '/pty', { command: 'true' });
    expect(outsideScope(pty)).toBe(true);
    expect(pty.body.error.message).toContain(p('moved'));
    expect(outsideScope(await post(token.moved, '/session', { directory: 'moved' }))).toBe(true);
    // The session made before runs nothing in what replaced its directory.
    const shell = await post(token.moved, `/session/${session.body.id}/shell`, { command: 'cat k.txt' });
    expect(shell.status).toBe(403);
    expect(shell.text).not.toContain(SECRET);
  });

  it('deleted: nothing on the way is shown, paths inside are simply missing, and nothing starts', async () => {
    const root = await get(token.gone, '/file?path=.');
    expect(root.status).toBe(200);
    expect(root.body.entries).toEqual([]);
    expect((await get(token.gone, '/file?path=gone')).status).toBe(404);
    expect((await get(token.gone, '/file/content?path=gone/x.txt')).status).toBe(404);
    expect(outsideScope(await get(token.gone, '/file/content?path=app/a.txt'))).toBe(true);
    expect((await get(token.gone, '/find/file?query=a')).body.results).toEqual([]);
    expect(outsideScope(await post(token.gone, '/pty', { command: 'true' }))).toBe(true);
    expect(outsideScope(await post(token.gone, '/session', {}))).toBe(true);
    expect((await post(token.gone, '/session', { directory: 'gone' })).status).toBe(400);
    // A scope is a path: a directory made again at that path is in scope again.
    fs.mkdirSync(p('gone'));
    fs.writeFileSync(p('gone/again.txt'), 'again\n');
    try {
      expect((await get(token.gone, '/file/content?path=gone/again.txt')).status).toBe(200);
    } finally {
      fs.rmSync(p('gone'), { recursive: true });
    }
  });

  it('outside the project: only whoami, even through a symlink in the project that leads into the scope', async () => {
    const who = await get(token.far, '/auth/whoami');
    expect(who.status).toBe(200);
    expect(who.body.scopes).toEqual([elsewhere]);
    for (const q of ['/file/content?path=far/far.txt', '/file?path=far', '/find?pattern=SECRET', '/pty', '/session', '/config', '/doc']) {
      const r = await get(token.far, q);
      expect(outsideScope(r), q).toBe(true);
      expect(r.body.error.message).toMatch(/project lies outside all of them/);
      expect(r.text).not.toContain(SECRET);
    }
  });
});

describe('races: a path inside the scope swapped for a symlink to a directory outside it (inside the project)', () => {
  const N = 120;
  async function hammer(pathname: string) {
    const tally = { ok: 0, refused: 0, leaks: 0, serverErrors: 0 };
    let next = 0;
    const worker = async () => {
      while (next++ < N) {
        const r = await s.fetch(pathname, { token: token.app, signal: AbortSignal.timeout(10_000) });
        const text = await r.text();
        if (text.includes(SECRET) || text.includes('only-secret')) tally.leaks++;
        if (r.status >= 500) tally.serverErrors++;
        else if (r.status === 200) tally.ok++;
        else tally.refused++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return tally;
  }

  for (const [what, route] of [
    ['read', '/file/content?path=app/race/k.txt'],
    ['list', '/file?path=app/race'],
    ['search', `/find?pattern=${encodeURIComponent(SECRET.slice(0, 6))}`],
  ] as const) {
    it(`${what}: never the secret, never a 5xx`, async () => {
      const dir = p('app/race');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'k.txt'), 'harmless\n');
      swapper = startSwapper('dir-symlink', dir, p('secret'));
      await swapper.ready;
      const t = await hammer(route);
      await swapper.stop();
      swapper = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
      expect(t.leaks, JSON.stringify(t)).toBe(0);
      expect(t.serverErrors).toBe(0);
      expect(t.ok + t.refused).toBe(N);
      // Both states were met: the real directory (read, listed) and the symlink out (refused).
      if (what !== 'search') expect(t.ok).toBeGreaterThan(0);
      if (what === 'read') expect(t.refused).toBeGreaterThan(0);
      else if (what === 'search') expect(t.ok).toBe(N);
    }, 60_000);
  }
});
