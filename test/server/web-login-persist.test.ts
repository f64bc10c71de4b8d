// Web logins survive a server restart: kept in $XDG_DATA_HOME/tether/web-logins.json (0600) as
// hashes only, with their token id; they end when their token does, and at logout. A file that is
// not what tether writes restores nothing (fail closed) and is reported loudly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebLogins } from '../../src/auth/web-logins.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
let file: string;
beforeEach(async () => {
  s = await startTestServer();
  file = path.join(s.env.dataHome, 'tether', 'web-logins.json');
});
afterEach(() => s.close());

async function login(token: string) {
  const r = await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  expect(r.status).toBe(200);
  const key = ((await r.json()) as { sessionKey: string }).sessionKey;
  const cookie = r.headers.get('set-cookie')!.split(';')[0];
  return { id: cookie.split('=')[1], key, headers: { cookie, 'x-tether-session': key } };
}

const whoami = async (headers: Record<string, string>) => (await s.fetch('/auth/whoami', { headers })).status;
const flushed = () => s.server.ctx.webLogins.persisted();

describe('web logins across a restart', () => {
  it('a login still works after a restart; a logged-out one does not come back', async () => {
    const { token } = await s.token(['read']);
    const kept = await login(token);
    const ended = await login(token);
    expect(await whoami(ended.headers)).toBe(200);
    expect((await s.fetch('/auth/session', { method: 'DELETE', headers: { ...ended.headers, origin: s.url } })).status).toBe(204);
    await s.restart();
    expect(await whoami(kept.headers)).toBe(200);
    expect(await whoami(ended.headers)).toBe(401);
    // And again (the restored login is written back as it is).
    await s.restart();
    expect(await whoami(kept.headers)).toBe(200);
  });

  it('the file is 0600 in a 0700 directory and holds hashes, never the login id or key', async () => {
    const { token, id: tokenId } = await s.token(['read']);
    const l = await login(token);
    await flushed();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(l.id);
    expect(text).not.toContain(l.key);
    expect(text).not.toContain(token);
    const data = JSON.parse(text);
    expect(data).toEqual({
      version: 1,
      logins: [{ idHash: expect.stringMatching(/^[0-9a-f]{64}$/), keyHash: expect.stringMatching(/^[0-9a-f]{64}$/), tokenId, expiresAt: expect.any(String) }],
    });
  });

  it('a login dies with its token: deleted while running, it leaves the file; deleted while stopped, it is not restored', async () => {
    const a = await s.token(['read']);
    const b = await s.token(['read']);
    const la = await login(a.token);
    const lb = await login(b.token);
    await flushed();
    expect((await runCli(['auth', 'token', 'delete', a.id], s.env.env)).code).toBe(0);
    expect(await whoami(la.headers)).toBe(401);
    await waitFor(() => !fs.readFileSync(file, 'utf8').includes(a.id), { what: "the deleted token's login to leave the file" });
    await s.server.close();
    // Deleted while no server runs: the next one must not restore its login.
    expect((await runCli(['auth', 'token', 'delete', b.id], s.env.env)).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain(b.id);
    await s.restart();
    expect(await whoami(lb.headers)).toBe(401);
    expect(await whoami(la.headers)).toBe(401);
    expect(s.server.ctx.webLogins.size).toBe(0);
    await waitFor(() => !fs.readFileSync(file, 'utf8').includes(b.id), { what: 'the stale login to be dropped from the file' });
  });

  it("an expired token's login is not restored", async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const { token } = await s.token(['read'], { expiresAt: soon });
    const l = await login(token);
    await flushed();
    await s.server.close();
    await waitFor(() => Date.now() > Date.parse(soon), { what: 'the token to expire', timeout: 5000, interval: 50 });
    await s.restart();
    expect(await whoami(l.headers)).toBe(401);
    expect(s.server.ctx.webLogins.size).toBe(0);
  });
});

describe('a web logins file that is not what tether writes restores nothing (fail closed), loudly', () => {
  const corruptions: [string, (valid: any, raw: string) => string][] = [
    ['not JSON', () => '{"version":1,"logins":['],
    ['truncated', (_v, raw) => raw.slice(0, Math.floor(raw.length / 2))],
    ['empty', () => ''],
    ['an unknown version', (v) => JSON.stringify({ ...v, version: 2 })],
    ['an unknown top-level field', (v) => JSON.stringify({ ...v, extra: true })],
    ['a login with an extra field', (v) => JSON.stringify({ ...v, logins: v.logins.map((l: any) => ({ ...l, admin: true })) })],
    ['a login with a plain key instead of a hash', (v) => JSON.stringify({ ...v, logins: v.logins.map((l: any) => ({ ...l, keyHash: 'secret' })) })],
    ['a login with a bad token id', (v) => JSON.stringify({ ...v, logins: v.logins.map((l: any) => ({ ...l, tokenId: '../x' })) })],
    ['a repeated login', (v) => JSON.stringify({ ...v, logins: [...v.logins, ...v.logins] })],
    ['logins that are not an array', (v) => JSON.stringify({ ...v, logins: { 0: v.logins[0] } })],
    ['null', () => 'null'],
  ];
  for (const [what, corrupt] of corruptions) {
    it(what, async () => {
      const { token } = await s.token(['read']);
      const good = await login(token);
      const other = await login(token);
      await flushed();
      await s.server.close();
      const raw = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, corrupt(JSON.parse(raw), raw));
      await s.restart();
      for (const l of [good, other]) expect(await whoami(l.headers)).toBe(401);
      expect(s.server.ctx.webLogins.size).toBe(0);
      const report = s.logs.find((l) => l.event === 'web_logins.file_invalid');
      expect(report).toMatchObject({ level: 'error', file, movedTo: expect.stringContaining(`${file}.invalid-`) });
      expect(fs.existsSync(report!.movedTo as string)).toBe(true);
      // Logging in again works, and is kept.
      const again = await login(token);
      await s.restart();
      expect(await whoami(again.headers)).toBe(200);
    });
  }

  it('a symlink or a directory in its place restores nothing', async () => {
    const { token } = await s.token(['read']);
    const l = await login(token);
    await flushed();
    await s.server.close();
    const elsewhere = path.join(s.env.root, 'elsewhere.json');
    fs.renameSync(file, elsewhere);
    fs.symlinkSync(elsewhere, file);
    await s.restart();
    expect(await whoami(l.headers)).toBe(401);
    expect(s.logs.filter((x) => x.event === 'web_logins.file_invalid')).toHaveLength(1);
    await s.server.close();
    fs.rmSync(file, { force: true });
    fs.mkdirSync(file);
    await s.restart();
    expect(s.logs.filter((x) => x.event === 'web_logins.file_invalid')).toHaveLength(2);
  });
});

describe('WebLogins with a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-weblogins-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('expired logins are not restored; a paired device login lasts as long as its token', async () => {
    const f = path.join(dir, 'web-logins.json');
    let now = 1_800_000_000_000;
    const a = new WebLogins({ file: f, now: () => now });
    const short = a.create('tok_aaaaaaaaaa', null);
    const device = a.create('tok_bbbbbbbbbb', null, { device: true });
    const bounded = a.create('tok_cccccccccc', new Date(now + 86_400_000).toISOString(), { device: true });
    expect(short.maxAgeS).toBe(12 * 3600);
    expect(device.maxAgeS).toBe(400 * 86_400);
    expect(bounded.maxAgeS).toBe(86_400);
    await a.persisted();
    now += 12 * 3600_000;
    const b = new WebLogins({ file: f, now: () => now });
    expect(b.lookup(short.id, short.key)).toBeNull();
    expect(b.lookup(device.id, device.key)).toBe('tok_bbbbbbbbbb');
    expect(b.lookup(bounded.id, bounded.key)).toBe('tok_cccccccccc');
    expect(b.lookup(device.id, short.key)).toBeNull();
  });

  it("two servers sharing the file keep each other's logins", async () => {
    const f = path.join(dir, 'web-logins.json');
    const a = new WebLogins({ file: f });
    const b = new WebLogins({ file: f });
    const la = a.create('tok_aaaaaaaaaa', null);
    const lb = b.create('tok_bbbbbbbbbb', null);
    await Promise.all([a.persisted(), b.persisted()]);
    const c = new WebLogins({ file: f });
    expect(c.lookup(la.id, la.key)).toBe('tok_aaaaaaaaaa');
    expect(c.lookup(lb.id, lb.key)).toBe('tok_bbbbbbbbbb');
  });

  it('when a logout cannot be written, the file is removed: an ended login never comes back', async () => {
    const f = path.join(dir, 'web-logins.json');
    const reports: { level: string; event: string; fields: Record<string, unknown> }[] = [];
    const a = new WebLogins({ file: f, report: (level, event, fields) => reports.push({ level, event, fields }) });
    const l = a.create('tok_aaaaaaaaaa', null);
    await a.persisted();
    expect(fs.existsSync(f)).toBe(true);
    // The lock cannot be taken any more (a directory where its file should be): every write fails.
    fs.rmSync(`${f}.lock`, { force: true });
    fs.mkdirSync(`${f}.lock`);
    a.delete(l.id);
    await a.persisted();
    expect(reports).toEqual([
      expect.objectContaining({
        level: 'error',
        event: 'web_logins.write_failed',
        fields: expect.objectContaining({ note: expect.stringMatching(/removed/) }),
      }),
    ]);
    expect(fs.existsSync(f)).toBe(false);
    expect(new WebLogins({ file: f }).lookup(l.id, l.key)).toBeNull();
  });

  it('a failed write of new logins only is reported, and keeps the file', async () => {
    const f = path.join(dir, 'web-logins.json');
    const reports: string[] = [];
    const a = new WebLogins({ file: f, report: (_l, event) => reports.push(event) });
    const first = a.create('tok_aaaaaaaaaa', null);
    await a.persisted();
    fs.rmSync(`${f}.lock`, { force: true });
    fs.mkdirSync(`${f}.lock`);
    a.create('tok_bbbbbbbbbb', null);
    await a.persisted();
    expect(reports).toEqual(['web_logins.write_failed']);
    expect(new WebLogins({ file: f }).lookup(first.id, first.key)).toBe('tok_aaaaaaaaaa');
  });
});
