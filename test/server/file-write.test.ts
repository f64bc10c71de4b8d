// PUT /file/content and DELETE /file against a real server: atomic create/replace, entity tags and
// preconditions, confinement (traversal, encoded traversal, NUL, symlinks), size and encoding
// checks, modes, and what is left on disk after each refusal.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openStream } from '../security/escalation-http.js';

let s: TestServer;
let rw: string;
let outside: string;
const MiB = 1024 * 1024;

beforeAll(async () => {
  s = await startTestServer();
  rw = (await s.token(['read', 'write'])).token;
  outside = path.join(s.env.root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'key.txt'), 'TOP SECRET');
  fs.symlinkSync(outside, path.join(s.project, 'escape'));
  fs.symlinkSync(path.join(outside, 'key.txt'), path.join(s.project, 'key-link'));
  fs.symlinkSync(path.join(outside, 'not-there.txt'), path.join(s.project, 'dangling-out'));
});
afterAll(() => s.close());
beforeEach(() => {
  for (const e of fs.readdirSync(s.project))
    if (!['escape', 'key-link', 'dangling-out'].includes(e)) fs.rmSync(path.join(s.project, e), { recursive: true, force: true });
});

const tagOf = (b: Buffer | string) => `"${createHash('sha256').update(b).digest('base64url')}"`;
const at = (rel: string) => path.join(s.project, rel);

interface Answer {
  status: number;
  body: any;
  etag: string | null;
}

async function call(
  method: string,
  url: string,
  opts: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  const r = await s.fetch(url, {
    method,
    token: opts.token ?? rw,
    headers: { 'content-type': 'application/json', ...opts.headers },
    ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, etag: r.headers.get('etag') };
}

/** A PUT on a connection of its own (the server closes one whose body it refused mid-way). */
function rawPut(pathname: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(s.url + pathname, {
      method: 'PUT',
      agent: false,
      headers: { authorization: `Bearer ${rw}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const put = (p: string, body: unknown, headers: Record<string, string> = {}) => call('PUT', `/file/content?path=${encodeURIComponent(p)}`, { body, headers });
const del = (p: string, headers: Record<string, string> = {}) => call('DELETE', `/file?path=${encodeURIComponent(p)}`, { headers });
const get = (p: string) => call('GET', `/file/content?path=${encodeURIComponent(p)}`);

/** Every name under the project and the outside directory, for "nothing else changed". */
function tree(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      out.push(`${rel}${d.name}`);
      if (d.isDirectory()) walk(path.join(dir, d.name), `${rel}${d.name}/`);
    }
  };
  walk(s.project, 'project/');
  walk(outside, 'outside/');
  return out.sort();
}

describe('PUT /file/content', () => {
  it('creates (201) and replaces (200) a file; the ETag is the content hash and matches GET', async () => {
    const created = await put('notes.txt', { content: 'one\n' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ path: 'notes.txt', size: 4, etag: tagOf('one\n'), created: true });
    expect(created.etag).toBe(tagOf('one\n'));
    expect(fs.readFileSync(at('notes.txt'), 'utf8')).toBe('one\n');

    const read = await get('notes.txt');
    expect(read.etag).toBe(created.body.etag);
    const head = await s.fetch('/file/content?path=notes.txt', { method: 'HEAD', token: rw });
    expect(head.headers.get('etag')).toBe(created.body.etag);

    const replaced = await put('notes.txt', { content: 'two\n', encoding: 'utf8' });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ created: false, etag: tagOf('two\n') });
    expect((await get('notes.txt')).etag).toBe(tagOf('two\n'));
    expect(fs.readdirSync(s.project).filter((n) => n.includes('tether'))).toEqual([]); // no temp file left
  });

  it('writes exact bytes: base64 binary, and text with NUL, CRLF, a BOM and astral characters', async () => {
    const bin = Buffer.from([0, 1, 2, 255, 0, 13, 10, 128]);
    expect((await put('bin.dat', { content: bin.toString('base64'), encoding: 'base64' })).status).toBe(201);
    expect(fs.readFileSync(at('bin.dat')).equals(bin)).toBe(true);
    expect((await get('bin.dat')).etag).toBe(tagOf(bin));
    const text = '\uFEFFa\u0000b\r\nc 😀\r\n';
    expect((await put('t.txt', { content: text })).status).toBe(201);
    expect(fs.readFileSync(at('t.txt')).equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect((await put('empty.txt', { content: '' })).status).toBe(201);
    expect(fs.statSync(at('empty.txt')).size).toBe(0);
  });

  it('keeps a replaced file its permission bits, never setuid/setgid, and its owner', async () => {
    for (const [mode, want] of [
      [0o640, 0o640],
      [0o755, 0o755],
      [0o600, 0o600],
      [0o6755, 0o755], // setuid + setgid dropped: a write must not make a privileged program
    ] as const) {
      fs.writeFileSync(at('m.sh'), 'old');
      // (chown first: it clears setuid/setgid)
      if (process.getuid?.() === 0) fs.chownSync(at('m.sh'), 65534, 65534);
      fs.chmodSync(at('m.sh'), mode);
      expect(fs.statSync(at('m.sh')).mode & 0o7777).toBe(mode);
      expect((await put('m.sh', { content: 'new' })).status).toBe(200);
      const st = fs.statSync(at('m.sh'));
      expect((st.mode & 0o7777).toString(8), mode.toString(8)).toBe(want.toString(8));
      if (process.getuid?.() === 0) expect([st.uid, st.gid]).toEqual([65534, 65534]);
      expect(fs.readFileSync(at('m.sh'), 'utf8')).toBe('new');
    }
  });

  it('a new file gets 0666 minus the umask, like any program creating one', async () => {
    const umask = process.umask(0o027);
    try {
      expect((await put('fresh.txt', { content: 'x' })).status).toBe(201);
      expect((fs.statSync(at('fresh.txt')).mode & 0o777).toString(8)).toBe('640');
    } finally {
      process.umask(umask);
    }
  });

  it('the parent directory must exist unless createParents; created ones are confined and undone on failure', async () => {
    const missing = await put('a/b/c.txt', { content: 'x' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/createParents/);
    expect(fs.existsSync(at('a'))).toBe(false);

    expect((await put('a/b/c.txt', { content: 'x', createParents: true })).status).toBe(201);
    expect(fs.readFileSync(at('a/b/c.txt'), 'utf8')).toBe('x');
    // Through a symlink out: refused before anything is created, nothing appears outside.
    const before = tree();
    expect((await put('escape/new/x.txt', { content: 'x', createParents: true })).status).toBe(403);
    // A precondition that fails after the directories were made: they are removed again.
    const failed = await put('p/q/r.txt', { content: 'x', createParents: true }, { 'if-match': tagOf('x') });
    expect(failed.status).toBe(412);
    expect(tree()).toEqual(before);
  });

  it('symlinks: written through when the target is a file inside; refused when it points out or nowhere', async () => {
    fs.writeFileSync(at('target.txt'), 'old');
    fs.symlinkSync('target.txt', at('inner-link'));
    const r = await put('inner-link', { content: 'through' });
    expect(r.status).toBe(200);
    expect(r.body.path).toBe('target.txt');
    expect(fs.readFileSync(at('target.txt'), 'utf8')).toBe('through');
    expect(fs.lstatSync(at('inner-link')).isSymbolicLink()).toBe(true);

    const before = tree();
    const out = await put('key-link', { content: 'pwned' });
    expect(out.status).toBe(403);
    expect(out.body.error.code).toBe('path_outside_root');
    const dangling = await put('dangling-out', { content: 'pwned' });
    expect(dangling.status).toBe(400);
    expect(dangling.body.error.code).toBe('symlink_not_followed');
    fs.symlinkSync('nowhere.txt', at('dangling-in'));
    expect((await put('dangling-in', { content: 'x' })).body.error.code).toBe('symlink_not_followed');
    expect(fs.existsSync(at('nowhere.txt'))).toBe(false);
    expect(tree()).toEqual([...before, 'project/dangling-in'].sort());
    expect(fs.readFileSync(path.join(outside, 'key.txt'), 'utf8')).toBe('TOP SECRET');
  });

  // [path, PUT answer, DELETE answer]: a symlink itself is never deleted (DELETE does not follow it).
  const escapes: [string, string, string][] = [
    ['../outside/new.txt', '403 path_outside_root', '403 path_outside_root'],
    ['../outside/key.txt', '403 path_outside_root', '403 path_outside_root'],
    ['..', '403 path_outside_root', '403 path_outside_root'],
    ['/etc/tether-pwned', '403 path_outside_root', '403 path_outside_root'],
    ['a/../../outside/key.txt', '403 path_outside_root', '403 path_outside_root'],
    ['escape/key.txt', '403 path_outside_root', '403 path_outside_root'],
    ['escape/new.txt', '403 path_outside_root', '403 path_outside_root'],
    ['escape', '403 path_outside_root', '400 is_symlink'],
  ];
  for (const [p, putWant, delWant] of escapes) {
    it(`refuses to write (${putWant}) or delete (${delWant}) ${p}; nothing changes inside or outside`, async () => {
      const before = tree();
      for (const [r, want] of [
        [await put(p, { content: 'pwned', createParents: true }), putWant],
        [await del(p), delWant],
      ] as const) {
        expect(`${r.status} ${r.body.error.code}`, p).toBe(want);
      }
      expect(tree()).toEqual(before);
      expect(fs.readFileSync(path.join(outside, 'key.txt'), 'utf8')).toBe('TOP SECRET');
    });
  }

  it('encoded traversal, NUL bytes and the project itself are refused the same way', async () => {
    const before = tree();
    for (const q of ['%2e%2e/outside/new.txt', '%2E%2E%2Foutside%2Fnew.txt', '..%2f..%2foutside%2fnew.txt', 'escape%2Fnew.txt']) {
      const r = await call('PUT', `/file/content?path=${q}`, { body: { content: 'x' } });
      expect(r.status, q).toBe(403);
      expect((await call('DELETE', `/file?path=${q}`)).status, q).toBe(403);
    }
    for (const q of ['a%00b.txt', 'x.txt%00.png', '%00']) {
      const r = await call('PUT', `/file/content?path=${q}`, { body: { content: 'x' } });
      expect(r.status, q).toBe(400);
      expect(r.body.error.message).toMatch(/NUL/);
      expect((await call('DELETE', `/file?path=${q}`)).status, q).toBe(400);
    }
    for (const p of ['.', '', s.project]) {
      expect((await put(p, { content: 'x' })).status, JSON.stringify(p)).toBe(400);
      expect((await del(p)).status, JSON.stringify(p)).toBe(400);
    }
    expect((await put('x'.repeat(5000), { content: 'x' })).status).toBe(400);
    expect(tree()).toEqual(before);
  });

  it('a directory, a FIFO or a socket at the path is refused, never replaced', async () => {
    fs.mkdirSync(at('dir'));
    execFileSync('mkfifo', [at('fifo')]);
    expect((await put('dir', { content: 'x' })).body.error.code).toBe('is_directory');
    expect((await put('fifo', { content: 'x' })).body.error.code).toBe('not_regular_file');
    expect(fs.statSync(at('dir')).isDirectory()).toBe(true);
    expect(fs.lstatSync(at('fifo')).isFIFO()).toBe(true);
  });

  it('content up to 1 MiB decoded; beyond is 413 naming the limit, for text and base64; the file is unchanged', async () => {
    fs.writeFileSync(at('big.bin'), 'old');
    expect((await put('big.bin', { content: Buffer.alloc(MiB, 7).toString('base64'), encoding: 'base64' })).status).toBe(200);
    expect(fs.statSync(at('big.bin')).size).toBe(MiB);
    fs.writeFileSync(at('big.bin'), 'old');
    for (const body of [
      { content: Buffer.alloc(MiB + 1, 7).toString('base64'), encoding: 'base64' },
      { content: 'a'.repeat(MiB + 1) },
      { content: '€'.repeat(Math.ceil((MiB + 1) / 3)) }, // fewer characters than bytes
    ]) {
      const r = await put('big.bin', body);
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe('too_large');
      expect(r.body.error.message).toContain('1048576');
    }
    // A body beyond the server's request limit never reaches the handler.
    expect(await rawPut('/file/content?path=big.bin', JSON.stringify({ content: 'a'.repeat(3 * MiB) }))).toBe(413);
    expect(fs.readFileSync(at('big.bin'), 'utf8')).toBe('old');
  });

  it('bad bodies are 400 naming what is accepted: encoding, base64, text, fields, JSON', async () => {
    fs.writeFileSync(at('keep.txt'), 'keep');
    const cases: [unknown, RegExp][] = [
      [{ content: 'x', encoding: 'hex' }, /"utf8".*"base64"/],
      [{ content: 'x', encoding: 'UTF8' }, /"utf8".*"base64"/],
      [{ content: 'abc', encoding: 'base64' }, /base64/],
      [{ content: 'YWJj=', encoding: 'base64' }, /base64/],
      [{ content: 'YW Jj', encoding: 'base64' }, /base64/],
      [{ content: 'YWJj\n', encoding: 'base64' }, /base64/],
      [{ content: '@@@@', encoding: 'base64' }, /base64/],
      [{ content: 'YQ', encoding: 'base64' }, /padded/],
      [{ content: 'a\ud800b' }, /surrogate/],
      [{ content: 'x', encodng: 'utf8' }, /encodng/],
      [{ content: 42 }, /content/],
      [{}, /content/],
      [{ content: 'x', createParents: 'yes' }, /createParents/],
    ];
    for (const [body, message] of cases) {
      const r = await put('keep.txt', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message, JSON.stringify(body)).toMatch(message);
    }
    expect((await call('PUT', '/file/content?path=keep.txt', { raw: '{"content": "x"' })).status).toBe(400);
    expect((await call('PUT', '/file/content', { body: { content: 'x' } })).status).toBe(400); // no path
    expect(fs.readFileSync(at('keep.txt'), 'utf8')).toBe('keep');
  });
});

describe('preconditions (If-Match / If-None-Match)', () => {
  it('If-Match with the current tag writes; a stale one is 412 etag_mismatch with the current tag, file unchanged', async () => {
    fs.writeFileSync(at('f.txt'), 'v1');
    const v1 = (await get('f.txt')).etag!;
    const ok = await put('f.txt', { content: 'v2' }, { 'if-match': v1 });
    expect(ok.status).toBe(200);
    const stale = await put('f.txt', { content: 'v3' }, { 'if-match': v1 });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'etag_mismatch', currentEtag: tagOf('v2') });
    expect(stale.etag).toBe(tagOf('v2'));
    expect(fs.readFileSync(at('f.txt'), 'utf8')).toBe('v2');
    // A list with the current tag in it matches; a weak tag never does (strong comparison).
    expect((await put('f.txt', { content: 'v3' }, { 'if-match': `"nope", ${tagOf('v2')}` })).status).toBe(200);
    expect((await put('f.txt', { content: 'v4' }, { 'if-match': `W/${tagOf('v3')}` })).status).toBe(412);
  });

  it('a file changed on disk (not through the API) is a conflict too', async () => {
    fs.writeFileSync(at('f.txt'), 'mine');
    const mine = (await get('f.txt')).etag!;
    fs.writeFileSync(at('f.txt'), 'theirs');
    const r = await put('f.txt', { content: 'mine, edited' }, { 'if-match': mine });
    expect(r.status).toBe(412);
    expect(r.body.error.currentEtag).toBe(tagOf('theirs'));
    expect(fs.readFileSync(at('f.txt'), 'utf8')).toBe('theirs');
  });

  it('If-None-Match: * creates only; If-Match: * replaces only; both 412 otherwise', async () => {
    expect((await put('n.txt', { content: 'x' }, { 'if-match': '*' })).body.error).toMatchObject({ code: 'etag_mismatch', currentEtag: null });
    expect(fs.existsSync(at('n.txt'))).toBe(false);
    expect((await put('n.txt', { content: 'first' }, { 'if-none-match': '*' })).status).toBe(201);
    const again = await put('n.txt', { content: 'second' }, { 'if-none-match': '*' });
    expect(again.status).toBe(412);
    expect(again.body.error).toMatchObject({ code: 'file_exists', currentEtag: tagOf('first') });
    expect((await put('n.txt', { content: 'third' }, { 'if-match': '*' })).status).toBe(200);
    expect(fs.readFileSync(at('n.txt'), 'utf8')).toBe('third');
  });

  it('a malformed If-Match or If-None-Match is 400, never ignored', async () => {
    fs.writeFileSync(at('f.txt'), 'keep');
    for (const [h, v] of [
      ['if-match', 'abc'],
      ['if-match', '"unterminated'],
      ['if-match', '"a" "b"'],
      ['if-match', ','],
      ['if-none-match', 'nope'],
      ['if-match', '*, "a"'],
    ]) {
      const r = await put('f.txt', { content: 'changed' }, { [h]: v });
      expect(r.status, `${h}: ${v}`).toBe(400);
      expect(r.body.error.code).toBe('bad_precondition');
      expect((await del('f.txt', { [h]: v })).status).toBe(400);
    }
    expect(fs.readFileSync(at('f.txt'), 'utf8')).toBe('keep');
  });

  it('a file over 1 MiB has no tag: If-Match cannot match it (412), an unconditional write can replace it', async () => {
    fs.writeFileSync(at('huge.bin'), Buffer.alloc(MiB + 10));
    const r = await put('huge.bin', { content: 'small' }, { 'if-match': tagOf(Buffer.alloc(MiB + 10)) });
    expect(r.status).toBe(412);
    expect(r.body.error.currentEtag).toBeNull();
    expect(fs.statSync(at('huge.bin')).size).toBe(MiB + 10);
    expect((await put('huge.bin', { content: 'small' })).status).toBe(200);
  });

  it('concurrent writers holding the same version: exactly one wins, the others get 412 and the winner’s tag', async () => {
    fs.writeFileSync(at('race.txt'), 'base');
    const base = (await get('race.txt')).etag!;
    const bodies = Array.from({ length: 20 }, (_, i) => `writer ${i} `.repeat(2000));
    const answers = await Promise.all(bodies.map((content) => put('race.txt', { content }, { 'if-match': base })));
    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    expect(answers.filter((a) => a.status === 412)).toHaveLength(19);
    const onDisk = fs.readFileSync(at('race.txt'), 'utf8');
    expect(tagOf(onDisk)).toBe(winners[0].body.etag);
    for (const a of answers.filter((x) => x.status === 412)) expect(a.body.error.currentEtag).toBe(winners[0].body.etag);
    expect(fs.readdirSync(s.project).filter((n) => n.startsWith('.tether-'))).toEqual([]);
  });

  it('concurrent unconditional writers: every answer 200/201, the file is exactly one of them, never torn', async () => {
    const bodies = Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(300 * 1024));
    const answers = await Promise.all(bodies.map((content) => put('torn.txt', { content })));
    expect(answers.every((a) => a.status === 200 || a.status === 201)).toBe(true);
    expect(bodies).toContain(fs.readFileSync(at('torn.txt'), 'utf8'));
    expect(fs.readdirSync(s.project).filter((n) => n.startsWith('.tether-'))).toEqual([]);
  });
});

describe('DELETE /file', () => {
  it('removes one regular file (204); a missing one is 404', async () => {
    fs.writeFileSync(at('gone.txt'), 'x');
    const r = await del('gone.txt');
    expect(r.status).toBe(204);
    expect(fs.existsSync(at('gone.txt'))).toBe(false);
    expect((await del('gone.txt')).status).toBe(404);
    expect((await del('no/such/dir/file.txt')).status).toBe(404);
  });

  it('never a directory, a symlink (inside or out) or a FIFO; nothing is removed', async () => {
    fs.mkdirSync(at('d'));
    fs.writeFileSync(at('d/inner.txt'), 'x');
    fs.writeFileSync(at('t.txt'), 'target');
    fs.symlinkSync('t.txt', at('link'));
    execFileSync('mkfifo', [at('fifo')]);
    const before = tree();
    expect((await del('d')).body.error.code).toBe('is_directory');
    expect((await del('link')).body.error.code).toBe('is_symlink');
    expect((await del('key-link')).body.error.code).toBe('is_symlink');
    expect((await del('fifo')).body.error.code).toBe('not_regular_file');
    expect(tree()).toEqual(before);
    expect(fs.readFileSync(path.join(outside, 'key.txt'), 'utf8')).toBe('TOP SECRET');
  });

  it('honours If-Match: a stale tag is 412 and the file stays; the current one deletes', async () => {
    fs.writeFileSync(at('c.txt'), 'v1');
    const v1 = (await get('c.txt')).etag!;
    fs.writeFileSync(at('c.txt'), 'v2');
    const stale = await del('c.txt', { 'if-match': v1 });
    expect(stale.status).toBe(412);
    expect(stale.body.error).toMatchObject({ code: 'etag_mismatch', currentEtag: tagOf('v2') });
    expect(fs.readFileSync(at('c.txt'), 'utf8')).toBe('v2');
    expect((await del('c.txt', { 'if-match': tagOf('v2') })).status).toBe(204);
    expect(fs.existsSync(at('c.txt'))).toBe(false);
  });
});

describe('who may write', () => {
  it('read-only and write-only tokens are refused (403) before anything happens; read+write may', async () => {
    fs.writeFileSync(at('w.txt'), 'keep');
    for (const perms of [['read'], ['write'], ['execute'], ['read', 'execute']] as const) {
      const token = (await s.token([...perms])).token;
      const p = await call('PUT', '/file/content?path=w.txt', { body: { content: 'changed' }, token });
      expect(p.status, perms.join('+')).toBe(403);
      expect(p.body.error.code).toBe('insufficient_permissions');
      expect((await call('DELETE', '/file?path=w.txt', { token })).status, perms.join('+')).toBe(403);
    }
    expect(fs.readFileSync(at('w.txt'), 'utf8')).toBe('keep');
    expect((await put('w.txt', { content: 'changed' })).status).toBe(200);
  });
});

describe('events', () => {
  it('a write and a delete are announced on GET /event (path, size, tag, who), never the content', async () => {
    const reader = await s.token(['read'], { name: 'event-reader' });
    const stream = openStream(s.url, '/event', { authorization: `Bearer ${reader.token}` });
    try {
      await stream.waitFor((t) => t.includes('server.connected'), 'the stream to open');
      const w = await put('ev.txt', { content: 'SECRET-CONTENT-42' });
      await stream.waitFor((t) => t.includes('"file.written"'), 'file.written');
      expect((await del('ev.txt')).status).toBe(204);
      await stream.waitFor((t) => t.includes('"file.deleted"'), 'file.deleted');
      const events = stream
        .text()
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { type: string; properties: Record<string, unknown> })
        .filter((e) => e.type.startsWith('file.'));
      const rwId = (await (await s.fetch('/auth/whoami', { token: rw })).json()).id;
      expect(events).toEqual([
        { type: 'file.written', properties: { path: 'ev.txt', size: 17, etag: w.body.etag, created: true, by: rwId } },
        { type: 'file.deleted', properties: { path: 'ev.txt', by: rwId } },
      ]);
      expect(stream.text()).not.toContain('SECRET-CONTENT-42');
    } finally {
      stream.close();
    }
  });
});

describe('cross-origin clients (--cors)', () => {
  it('may send If-Match / If-None-Match (preflight) and read the ETag', async () => {
    const origin = 'https://editor.example.com';
    const c = await startTestServer({ cors: [origin] });
    try {
      const pre = await fetch(`${c.url}/file/content?path=x.txt`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,content-type,if-match' },
      });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/If-Match/);
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/);
      const token = (await c.token(['read', 'write'])).token;
      const r = await c.fetch('/file/content?path=x.txt', {
        method: 'PUT',
        token,
        headers: { origin, 'content-type': 'application/json', 'if-none-match': '*' },
        body: JSON.stringify({ content: 'x' }),
      });
      expect(r.status).toBe(201);
      expect(r.headers.get('access-control-expose-headers')).toBe('ETag');
      expect(r.headers.get('etag')).toBe(tagOf('x'));
    } finally {
      await c.close();
    }
  });
});
