// A scripted session against a real server (real requests, the real CLI, a scripted model): the
// audit log then holds every event kind this branch produces, each with the right token id and
// address, written before the action's response; and it holds no token, key or file content.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_KINDS, type AuditEvent } from '../../src/audit/kinds.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { runCli } from '../helpers/cli.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { events, rawLines } from './helpers.js';

/** Kinds proven in their own suite: the OAuth flow's (test/security/escalation-oauth.test.ts). */
const ELSEWHERE = ['oauth.approve', 'oauth.revoke'];
/** Written only after the log failed (test/audit/log.test.ts proves it). */
const ONLY_AFTER_FAILURE = ['audit.lost'];

const API_KEY = 'sk-audit-SECRET-api-key-0123456789';
const FILE_SECRET = 'FILE-CONTENT-SECRET-7f3a9c';

let s: TestServer;
let model: FakeModel;
let admin: { id: string; token: string; name: string };
const secrets: string[] = [];
const ok = (r: Response, status = 200) => expect(r.status, r.url).toBe(status);
const json = { 'content-type': 'application/json' };
const auditDir = () => s.env.auditDir;
const kinds = () => events(auditDir()).map((e) => e.kind);
const last = (kind: string) =>
  events(auditDir())
    .filter((e) => e.kind === kind)
    .at(-1);

beforeAll(async () => {
  for (const k of ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY']) delete process.env[k];
  model = await startFakeModel();
  s = await startTestServer({ registrars: await productionRegistrars() });
});
afterAll(async () => {
  await s?.close();
  await model?.close();
});

describe('a scripted session', () => {
  it('records every kind of this branch, with the actor, before each response; and no secret', async () => {
    // The CLI creates the admin token while the server runs: its own line, address "cli".
    const created = await runCli(['auth', 'token', 'create', '--name', 'admin-cli', '--json'], s.env.env);
    expect(created.code, created.stderr).toBe(0);
    const c = JSON.parse(created.stdout);
    admin = { id: c.id, token: c.token, name: 'admin-cli' };
    secrets.push(admin.token);
    expect(last('token.create')).toMatchObject({ tokenId: admin.id, tokenName: 'admin-cli', address: 'cli', permissions: ['read', 'write', 'execute'] });
    const auth = { authorization: `Bearer ${admin.token}` };
    const me = { tokenId: admin.id, tokenName: 'admin-cli', address: '127.0.0.1' };

    // Settings: the keys, never the values; written before the answer arrives.
    let r = await s.fetch('/config', {
      method: 'PATCH',
      headers: { ...auth, ...json },
      body: JSON.stringify({ modelUrl: model.baseURL, model: 'm', apiKey: API_KEY }),
    });
    ok(r);
    expect(last('config.update')).toMatchObject({ ...me, keys: ['modelUrl', 'model', 'apiKey'] });
    secrets.push(API_KEY);

    // Web login and logout (the cookie and the key are secrets too).
    r = await s.fetch('/auth/session', { method: 'POST', headers: { ...json, origin: s.url }, body: JSON.stringify({ token: admin.token }) });
    ok(r);
    const { sessionKey } = await r.json();
    const cookie = r.headers.get('set-cookie')!.split(';')[0];
    secrets.push(sessionKey, cookie.split('=')[1]);
    expect(last('web.login')).toMatchObject(me);
    ok(await s.fetch('/auth/session', { method: 'DELETE', headers: { cookie, 'x-tether-session': sessionKey, origin: s.url } }), 204);
    expect(last('web.logout')).toMatchObject(me);
    // A logout that ends nothing (no such login) records nothing.
    ok(await s.fetch('/auth/session', { method: 'DELETE', headers: { cookie, 'x-tether-session': sessionKey, origin: s.url } }), 204);
    expect(kinds().filter((k) => k === 'web.logout')).toHaveLength(1);

    // Authentication failures: a wrong token (unknown), an expired one (its id is known), and enough
    // from one address to be collapsed into a summary.
    const expired = await s.token(['read'], { name: 'old', expiresAt: new Date(Date.now() - 1000).toISOString() });
    secrets.push(expired.token);
    ok(await s.fetch('/auth/whoami', { token: expired.token }), 401);
    expect(last('auth.failure')).toMatchObject({
      tokenId: expired.id,
      reason: 'expired',
      via: 'bearer',
      method: 'GET',
      path: '/auth/whoami',
      address: '127.0.0.1',
    });
    for (let i = 0; i < 12; i++) ok(await s.fetch('/auth/whoami', { token: 'tether_' + 'A'.repeat(28) }), 401);
    expect(kinds().filter((k) => k === 'auth.failure')).toHaveLength(10); // collapsed: 10 a minute per network

    // A terminal: started (command, directory) and ended (exit), in the name of who started it.
    r = await s.fetch('/pty', { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ command: 'sh', args: ['-c', 'read x; exit 3'] }) });
    ok(r, 201);
    const pty = await r.json();
    expect(last('pty.start')).toMatchObject({ ...me, ptyId: pty.id, command: pty.command, args: ['-c', 'read x; exit 3'], cwd: s.project });
    ok(await s.fetch(`/pty/${pty.id}`, { method: 'DELETE', headers: auth }), 204);
    await waitFor(() => last('pty.exit'), { what: 'pty.exit' });
    expect(last('pty.exit')).toMatchObject({ ...me, ptyId: pty.id, command: pty.command });

    // A shell command: its start is on record before the (streamed) answer begins, its end (exit,
    // duration) before the plain answer arrives.
    r = await s.fetch('/session', { method: 'POST', headers: { ...auth, ...json }, body: '{}' });
    ok(r, 201);
    const ses = await r.json();
    r = await s.fetch(`/session/${ses.id}/shell`, {
      method: 'POST',
      headers: { ...auth, ...json, accept: 'text/event-stream' },
      body: JSON.stringify({ command: 'sleep 2' }),
    });
    ok(r);
    expect(last('shell.start')).toMatchObject({ ...me, sessionId: ses.id, command: 'sleep 2', cwd: s.project });
    await r.text();
    r = await s.fetch(`/session/${ses.id}/shell`, { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ command: 'echo hi; exit 2' }) });
    ok(r);
    expect(last('shell.exit')).toMatchObject({ ...me, sessionId: ses.id, command: 'echo hi; exit 2', exitCode: 2, signal: null });
    expect(last('shell.exit')!.durationMs).toEqual(expect.any(Number));

    // Agent tool calls: the tool and its command or path, never the content it writes.
    model.reply(
      { toolCalls: [{ name: 'run_command', args: { command: 'echo from-the-agent' } }] },
      { toolCalls: [{ name: 'write_file', args: { path: 'out.txt', content: FILE_SECRET } }] },
      { text: ['done'] },
    );
    r = await s.fetch(`/session/${ses.id}/message`, { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ text: 'go' }) });
    ok(r);
    expect((await r.json()).status).toBe('completed');
    expect(fs.readFileSync(path.join(s.project, 'out.txt'), 'utf8')).toBe(FILE_SECRET);
    secrets.push(FILE_SECRET);
    const tools = events(auditDir()).filter((e) => e.kind === 'agent.tool');
    expect(tools).toEqual([
      expect.objectContaining({ ...me, sessionId: ses.id, tool: 'run_command', command: 'echo from-the-agent', directory: s.project }),
      expect.objectContaining({ ...me, sessionId: ses.id, tool: 'write_file', path: 'out.txt' }),
    ]);

    // Files written and deleted through the API: the path, never the content.
    r = await s.fetch('/file/content?path=notes.txt', {
      method: 'PUT',
      headers: { ...auth, ...json },
      body: JSON.stringify({ content: FILE_SECRET, encoding: 'utf8' }),
    });
    expect([200, 201]).toContain(r.status);
    expect(last('file.write')).toMatchObject({ ...me, path: 'notes.txt' });
    ok(await s.fetch('/file?path=notes.txt', { method: 'DELETE', headers: auth }), 204);
    expect(last('file.delete')).toMatchObject({ ...me, path: 'notes.txt' });

    // A share link: who made it and which token it is, never its secret.
    r = await s.fetch(`/session/${ses.id}/share`, { method: 'POST', headers: { ...auth, ...json }, body: '{}' });
    ok(r, 201);
    const share = await r.json();
    secrets.push(share.url.split('#')[1]);
    expect(last('share.create')).toMatchObject({ ...me, shareTokenId: share.id });

    // A pairing code made, then used by a device: the device's line names who made the code.
    r = await s.fetch('/auth/pair/code', { method: 'POST', headers: { ...auth, ...json }, body: JSON.stringify({ permissions: ['read'] }) });
    ok(r, 201);
    const pairing = await r.json();
    secrets.push(pairing.code);
    expect(last('pair.create')).toMatchObject({ ...me, pairingId: pairing.id, permissions: ['read'] });
    r = await s.fetch('/auth/pair', {
      method: 'POST',
      headers: { ...json, 'user-agent': 'Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile' },
      body: JSON.stringify({ code: pairing.code }),
    });
    ok(r);
    const device = await r.json();
    secrets.push(device.sessionKey);
    expect(last('pair.use')).toMatchObject({ tokenId: device.id, address: '127.0.0.1', pairingId: pairing.id, createdBy: admin.id, permissions: ['read'] });

    // The CLI deletes a token: its own line.
    const doomed = await s.token(['read'], { name: 'doomed' });
    secrets.push(doomed.token);
    expect((await runCli(['auth', 'token', 'delete', 'doomed'], s.env.env)).code).toBe(0);
    expect(last('token.delete')).toMatchObject({ tokenId: doomed.id, tokenName: 'doomed', address: 'cli' });

    // Shutting down flushes the failure summary and says the server stopped.
    await s.server.close();
    expect(last('auth.failure.summary')).toMatchObject({ tokenId: null, address: 'loopback', failures: 13, notLoggedIndividually: 3 });
    expect(kinds()[0]).toBe('server.start');
    expect(kinds().at(-1)).toBe('server.stop');
    await s.restart();

    // Every kind this branch can produce is there.
    const expected = AUDIT_KINDS.filter((k) => !ELSEWHERE.includes(k) && !ONLY_AFTER_FAILURE.includes(k));
    expect(new Set(kinds())).toEqual(new Set(expected));
  }, 60_000);

  it('the log holds no token, no key, no cookie, no file content', () => {
    const all = rawLines(auditDir()).map((l) => l.line);
    expect(all.every((l) => JSON.parse(l))).toBe(true);
    const text = all.join('\n');
    expect(secrets.length).toBeGreaterThanOrEqual(7);
    for (const secret of secrets) expect(text, 'a secret in the audit log').not.toContain(secret);
    // And nothing shaped like one: a token, an OpenAI-style key, a 43-character login id or key.
    expect(text).not.toMatch(/tether_[0-9A-Za-z]{28}/);
    expect(text).not.toMatch(/sk-[A-Za-z0-9-]{16,}/);
    expect(text).not.toMatch(/"[A-Za-z0-9_-]{43}"/);
  });
});

describe('GET /audit', () => {
  const get = async (query: string, token = admin.token) => {
    const r = await s.fetch(`/audit${query}`, { token });
    return { status: r.status, body: await r.json() };
  };

  it('serves the log, oldest first, with the log health', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.events.map((e: AuditEvent) => e.kind)).toEqual(kinds());
    expect(body).toMatchObject({ truncated: false, skippedLines: 0, log: { ok: true, error: null, lostLines: 0 } });
  });

  it('filters by kind (exact or group), token (`by`, name or id), since; limit keeps the newest', async () => {
    expect((await get('?kind=pty')).body.events.map((e: AuditEvent) => e.kind)).toEqual(['pty.start', 'pty.exit']);
    expect((await get('?kind=shell.exit,config.update')).body.events.map((e: AuditEvent) => e.kind)).toEqual(['config.update', 'shell.exit', 'shell.exit']);
    const byName = (await get('?by=admin-cli')).body.events;
    expect(byName.length).toBeGreaterThan(8);
    expect(byName.every((e: AuditEvent) => e.tokenId === admin.id)).toBe(true);
    expect((await get(`?by=${admin.id}`)).body.events).toEqual(byName);
    expect((await get('?since=2000-01-01')).body.events.length).toBe(kinds().length);
    expect((await get(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).body.events).toEqual([]);
    expect((await get('?since=1h&kind=auth.failure')).body.events).toHaveLength(10);
    const two = (await get('?limit=2')).body;
    expect(two.truncated).toBe(true);
    expect(two.events.map((e: AuditEvent) => e.kind)).toEqual(kinds().slice(-2));
  });

  it('refuses bad filters with a 400 that says what is accepted', async () => {
    const cases: [string, RegExp][] = [
      ['?since=yesterday', /since must be a duration back from now .*30m, 1h, 7d.*ISO 8601/],
      ['?since=-1h', /since must be/],
      ['?kind=pty.nope', /kind: unknown kind "pty.nope".*pty.start.*groups/],
      ['?kind=', /kind: unknown kind ""/],
      ['?limit=0', /limit must be a whole number from 1 to 10000/],
      ['?limit=10001', /limit must be/],
      ['?limit=1e3', /limit must be/],
      ['?by=', /by must be a token id or name/],
      [`?by=${'x'.repeat(201)}`, /by must be/],
      ['?by=%1b%5b2J', /no control characters/],
    ];
    for (const [q, message] of cases) {
      const { status, body } = await get(q);
      expect(status, q).toBe(400);
      expect(body.error.message, q).toMatch(message);
    }
  });

  it('needs read and execute: it shows the commands that ran', async () => {
    for (const perms of [['read'], ['read', 'write'], ['execute'], ['write', 'execute']] as const) {
      const t = await s.token([...perms]);
      const r = await get('', t.token);
      expect(r.status, perms.join(',')).toBe(403);
      expect(JSON.stringify(r.body)).not.toContain('echo hi');
    }
    expect((await get('', (await s.token(['read', 'execute'])).token)).status).toBe(200);
  });
});

describe('tether audit (the CLI, reading the file)', () => {
  it('prints a table, JSON lines, and the same filters; works with the server down', async () => {
    await s.server.close();
    const table = await runCli(['audit', '--kind', 'shell.exit,pty.start'], s.env.env);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+KIND\s+TOKEN\s+ADDRESS\s+WHAT$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual(['pty.start', 'shell.exit', 'shell.exit']);
    expect(lines[1]).toContain(`admin-cli (${admin.id})`);
    expect(lines.at(-1)).toMatch(/command="echo hi; exit 2" exitCode=2 signal=null durationMs=\d+/);

    const j = await runCli(['audit', '--json', '--token', 'doomed'], s.env.env);
    expect(
      j.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).kind),
    ).toEqual(['token.delete']);

    const limited = await runCli(['audit', '--json', '--limit', '1', '--kind', 'server'], s.env.env);
    expect(
      limited.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).kind),
    ).toEqual(['server.stop']);
    expect(limited.stderr).toMatch(/showing the newest 1 matching events/);

    const bad = await runCli(['audit', '--since', 'soon'], s.env.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since must be a duration/);
    const none = await runCli(['audit', '--since', '2999-01-01'], s.env.env);
    expect(none.stdout).toMatch(/^No audit events match/);
    await s.restart();
  });

  it('shows attacker-controlled text (a command with escape sequences) visibly, never raw', async () => {
    const auth = { authorization: `Bearer ${admin.token}`, ...json };
    const ses = await (await s.fetch('/session', { method: 'POST', headers: auth, body: '{}' })).json();
    const evil = 'true \u001b]52;c;ZXZpbA==\u0007\u001b[2J\r\u202e';
    ok(await s.fetch(`/session/${ses.id}/shell`, { method: 'POST', headers: auth, body: JSON.stringify({ command: evil }) }));
    for (const args of [
      ['audit', '--kind', 'shell.start'],
      ['audit', '--json', '--kind', 'shell.start'],
      ['audit', '--kind', 'shell.start', '--follow'],
    ]) {
      const out = args.includes('--follow') ? await followUntil(args, SHOWN_OSC52) : (await runCli(args, s.env.env)).stdout;
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(out, args.join(' ')).not.toMatch(/[\u0007\u001b\r\u202e]/);
      expect(out).toMatch(SHOWN_OSC52);
    }
  });
});

/** The OSC 52 sequence of the attacker's command, as the CLI shows it (caret or JSON escape). */
const SHOWN_OSC52 = /\^\[\]52|\\u001b\]52/;

/** `tether audit --follow ...` until its output matches `shown` (not merely its first row: the
 * event looked for need not be the first one printed), then stopped. */
async function followUntil(args: string[], shown: RegExp): Promise<string> {
  const { spawnCli } = await import('../helpers/cli.js');
  const child = spawnCli(args, s.env.env);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  try {
    await waitFor(() => shown.test(out), { what: `a followed row matching ${shown}` });
  } finally {
    child.kill('SIGTERM');
  }
  return out;
}
