import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let token: string;
let outside: string;
beforeAll(async () => {
  s = await startTestServer();
  token = (await s.token(['read'])).token;
  const p = s.project;
  fs.mkdirSync(path.join(p, 'src/deep'), { recursive: true });
  fs.writeFileSync(path.join(p, 'src/a.ts'), 'export const answer = 42;\nconst Needle = "x";\n');
  fs.writeFileSync(path.join(p, 'src/deep/b.txt'), 'nothing here\nfind the needle\n');
  fs.writeFileSync(path.join(p, 'README.md'), '# hi\n');
  fs.writeFileSync(path.join(p, 'bin.dat'), Buffer.from([0, 1, 2, 255, 0, 104, 105]));
  fs.writeFileSync(path.join(p, 'big.txt'), Buffer.alloc(1024 * 1024 + 1, 'a'));
  fs.mkdirSync(path.join(p, 'node_modules/pkg'), { recursive: true });
  fs.writeFileSync(path.join(p, 'node_modules/pkg/needle.js'), 'needle');
  outside = path.join(s.env.root, 'secret');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'key.txt'), 'TOP SECRET needle');
  fs.symlinkSync(outside, path.join(p, 'escape'));
  fs.symlinkSync(path.join(outside, 'key.txt'), path.join(p, 'src/key-link'));
  fs.symlinkSync('a.ts', path.join(p, 'src/inside-link'));
});
afterAll(() => s.close());

const get = async (url: string) => {
  const r = await s.fetch(url, { token });
  return { status: r.status, body: await r.json() };
};

describe('GET /file and /file/content', () => {
  it('lists a directory, directories first', async () => {
    const r = await get('/file?path=src');
    expect(r.status).toBe(200);
    expect(r.body.path).toBe('src');
    expect(r.body.entries.map((e: { name: string; type: string }) => `${e.type}:${e.name}`)).toEqual([
      'directory:deep',
      'file:a.ts',
      'symlink:inside-link',
      'symlink:key-link',
    ]);
    expect((await get('/file')).body.path).toBe('.');
  });

  it('reads text and binary files', async () => {
    const t = await get('/file/content?path=src/a.ts');
    expect(t.body).toEqual({ path: 'src/a.ts', size: 46, encoding: 'utf8', content: 'export const answer = 42;\nconst Needle = "x";\n' });
    const b = await get('/file/content?path=bin.dat');
    expect(b.body.encoding).toBe('base64');
    expect(Buffer.from(b.body.content, 'base64')).toEqual(Buffer.from([0, 1, 2, 255, 0, 104, 105]));
    expect((await get(`/file/content?path=${encodeURIComponent(path.join(s.project, 'README.md'))}`)).status).toBe(200);
  });

  it('a symlink that stays inside is followed', async () => {
    expect((await get('/file/content?path=src/inside-link')).body.content).toMatch(/answer/);
  });

  const escapes = ['../secret/key.txt', '..', '/etc/passwd', 'src/../../secret/key.txt', 'escape/key.txt', 'escape', 'src/key-link', '%2e%2e/secret/key.txt'];
  for (const p of escapes) {
    it(`refuses ${p} with 403 and never shows the content`, async () => {
      for (const route of ['/file/content', '/file']) {
        const r = await get(`${route}?path=${p.startsWith('%') ? p : encodeURIComponent(p)}`);
        expect(r.status, `${route} ${p}`).toBe(403);
        expect(r.body.error.code).toBe('path_outside_root');
        expect(JSON.stringify(r.body)).not.toMatch(/TOP SECRET/);
      }
    });
  }

  it('missing files are 404, directories/files in the wrong endpoint 400, NUL 400', async () => {
    expect((await get('/file/content?path=nope.txt')).status).toBe(404);
    expect((await get('/file?path=nope')).status).toBe(404);
    expect((await get('/file/content?path=src/a.ts/x')).status).toBe(404);
    const d = await get('/file/content?path=src');
    expect(d.status).toBe(400);
    expect(d.body.error.message).toMatch(/is a directory/);
    expect((await get('/file?path=README.md')).status).toBe(400);
    expect((await get('/file/content?path=a%00b')).status).toBe(400);
    const missing = await get('/file/content');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/query\.path/);
  });

  it('a FIFO, a socket and a symlink loop are 4xx with a clear code, never a 500 or a blocked read', async () => {
    const special = path.join(s.project, 'special');
    fs.mkdirSync(special);
    execFileSync('mkfifo', [path.join(special, 'fifo')]);
    const sock = net.createServer();
    await new Promise<void>((r) => sock.listen(path.join(special, 'sock'), r));
    fs.symlinkSync('loop-b', path.join(special, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(special, 'loop-b'));
    try {
      const cases: [string, string, number, string][] = [
        ['/file/content', 'special/fifo', 400, 'not_regular_file'],
        ['/file/content', 'special/sock', 400, 'not_regular_file'],
        ['/file/content', 'special/loop-a', 400, 'symlink_loop'],
        ['/file/content', 'special/loop-a/x', 400, 'symlink_loop'],
        ['/file', 'special/loop-a', 400, 'symlink_loop'],
        ['/file', 'special/fifo', 400, 'not_directory'],
        ['/file', 'README.md', 400, 'not_directory'],
        ['/file/content', 'src', 400, 'is_directory'],
      ];
      for (const [route, p, status, code] of cases) {
        const r = await get(`${route}?path=${encodeURIComponent(p)}`);
        expect([route, p, r.status, r.body.error?.code]).toEqual([route, p, status, code]);
        expect(r.body.error.message).toContain(p);
      }
      // Listing shows them for what they are; searches skip them without blocking.
      const listed = (await get('/file?path=special')).body.entries.map((e: { name: string; type: string }) => `${e.type}:${e.name}`);
      expect(listed).toEqual(['other:fifo', 'symlink:loop-a', 'symlink:loop-b', 'other:sock']);
      expect((await get('/find?pattern=zzz-nothing')).status).toBe(200);
      expect((await get('/find/file?query=fifo')).body.results).toEqual([]);
      expect(s.logs.filter((l) => l.event === 'request.crash' || l.level === 'error')).toEqual([]);
    } finally {
      sock.close();
      fs.rmSync(special, { recursive: true, force: true });
    }
  });

  it('a file over the size cap is 413 naming the cap', async () => {
    const r = await get('/file/content?path=big.txt');
    expect(r.status).toBe(413);
    expect(r.body.error.message).toMatch(/1048577 bytes.*up to 1048576 bytes/);
  });
});

describe('GET /find/file and /find', () => {
  it('finds file names, skipping node_modules, never following symlinks out', async () => {
    const r = await get('/find/file?query=B.TXT');
    expect(r.body).toEqual({ results: [{ path: 'src/deep/b.txt', type: 'file' }], truncated: false });
    expect((await get('/find/file?query=key')).body.results).toEqual([]);
    expect((await get('/find/file?query=needle')).body.results).toEqual([]);
  });

  it('searches text literally, case-insensitive by default, confined to the project', async () => {
    const r = await get('/find?pattern=needle');
    expect(r.body.results).toEqual([
      { path: 'src/a.ts', line: 2, column: 7, text: 'const Needle = "x";' },
      { path: 'src/deep/b.txt', line: 2, column: 10, text: 'find the needle' },
    ]);
    expect((await get('/find?pattern=needle&caseSensitive=true')).body.results).toHaveLength(1);
    expect((await get('/find?pattern=.*')).body.results).toEqual([]);
    expect(JSON.stringify((await get('/find?pattern=SECRET')).body)).not.toMatch(/TOP/);
  });

  it('results are bounded by limit and flagged truncated', async () => {
    const r = await get('/find/file?query=.&limit=2');
    expect(r.body.results).toHaveLength(2);
    expect(r.body.truncated).toBe(true);
  });

  it('bad queries are 400 naming the field', async () => {
    const a = await get('/find?pattern=');
    expect(a.status).toBe(400);
    expect(a.body.error.message).toMatch(/query\.pattern/);
    const b = await get('/find/file?query=x&limit=100000');
    expect(b.status).toBe(400);
    expect(b.body.error.message).toMatch(/query\.limit/);
  });
});
