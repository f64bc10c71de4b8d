import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

async function err(r: Response) {
  return ((await r.json()) as { error: { code: string; message: string } }).error;
}

describe('authentication', () => {
  it('health needs no token and says nothing else', async () => {
    const r = await s.fetch('/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
  });

  it('whoami with Bearer and with Basic (token as password, any user)', async () => {
    const { token, id } = await s.token(['read'], { name: 'reader' });
    const a = await s.fetch('/auth/whoami', { token });
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ id, name: 'reader', permissions: ['read'], expiresAt: null, authenticatedBy: 'bearer' });
    for (const user of ['x', '', 'someone']) {
      const b = await s.fetch('/auth/whoami', { headers: { authorization: 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64') } });
      expect(b.status).toBe(200);
      expect((await b.json()).authenticatedBy).toBe('basic');
    }
  });

  const bad: [string, () => Promise<Record<string, string>>, string][] = [
    ['missing', () => Promise.resolve({}), 'missing_token'],
    ['malformed', () => Promise.resolve({ authorization: 'Bearer not-a-token' }), 'malformed_token'],
    [
      'wrong checksum',
      async () => {
        const t = (await s.token()).token;
        return { authorization: `Bearer ${t.slice(0, -1)}${t.endsWith('a') ? 'b' : 'a'}` };
      },
      'malformed_token',
    ],
    ['unknown (valid checksum)', () => Promise.resolve({ authorization: `Bearer ${generateToken()}` }), 'unknown_token'],
    [
      'expired',
      async () => {
        const { token } = await s.token(['read'], { expiresAt: new Date(Date.now() + 1500).toISOString() });
        await waitFor(async () => (await s.fetch('/auth/whoami', { token })).status === 401, { timeout: 5000, interval: 100, what: 'expiry' });
        return { authorization: `Bearer ${token}` };
      },
      'expired_token',
    ],
    ['unsupported scheme', async () => ({ authorization: `Token ${(await s.token()).token}` }), 'malformed_token'],
    ['two tokens in one header', async () => ({ authorization: `Bearer ${(await s.token()).token}, Bearer ${(await s.token()).token}` }), 'malformed_token'],
  ];
  for (const [what, headers, code] of bad) {
    it(`401 for a ${what} token, with WWW-Authenticate and a JSON body`, async () => {
      const r = await s.fetch('/auth/whoami', { headers: await headers() });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="tether"');
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      const e = await err(r);
      expect(e.code).toBe(code);
      expect(e.message.length).toBeGreaterThan(10);
    });
  }

  it('a token in the query string or a cookie named token is not accepted', async () => {
    const { token } = await s.token();
    // Refused outright (400 token_in_url), with or without a valid header beside it.
    for (const q of [`?token=${token}`, `?access_token=${token}`, `?auth=${token}`]) {
      expect((await s.fetch(`/auth/whoami${q}`)).status).toBe(400);
      expect((await s.fetch(`/auth/whoami${q}`, { token })).status).toBe(400);
    }
    expect((await s.fetch('/auth/whoami', { headers: { cookie: `token=${token}` } })).status).toBe(401);
  });

  it('every failure is one log line naming no secret; first use is logged once with the token id', async () => {
    const { token, id } = await s.token();
    const wrong = generateToken();
    await s.fetch('/auth/whoami', { headers: { authorization: `Bearer ${wrong}` } });
    await s.fetch('/auth/whoami', { token });
    await s.fetch('/auth/whoami', { token });
    const failures = s.logs.filter((l) => l.event === 'auth.failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'warn', reason: 'unknown', path: '/auth/whoami', address: '127.0.0.1' });
    expect(s.logs.filter((l) => l.event === 'token.first_use')).toEqual([expect.objectContaining({ tokenId: id })]);
    const all = JSON.stringify(s.logs);
    expect(all).not.toContain(token);
    expect(all).not.toContain(wrong);
    expect(all).not.toContain(token.slice(7, 29));
  });

  it('429 with Retry-After after 30 failures a minute from one address, while a valid token keeps working', async () => {
    const { token } = await s.token(['read']);
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) statuses.push((await s.fetch('/auth/whoami', { headers: { authorization: `Bearer ${generateToken()}` } })).status);
    expect(statuses.slice(0, 30).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(30).every((x) => x === 429)).toBe(true);
    const r = await s.fetch('/auth/whoami', { headers: { authorization: `Bearer ${generateToken()}` } });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect((await err(r)).code).toBe('too_many_failures');
    for (let i = 0; i < 5; i++) expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
    // Requests without any credential are not attempts: still a plain 401.
    expect((await s.fetch('/auth/whoami')).status).toBe(401);
  });
});

describe('live tokens', () => {
  it('a token deleted by the real CLI fails on the very next request', async () => {
    const { token, id } = await s.token();
    expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
    const del = await runCli(['auth', 'token', 'delete', id], s.env.env);
    expect(del.code, del.stderr).toBe(0);
    const r = await s.fetch('/auth/whoami', { token });
    expect(r.status).toBe(401);
    expect((await err(r)).code).toBe('unknown_token');
  });

  it('a token created by the CLI works at once, without a restart', async () => {
    const c = await runCli(['auth', 'token', 'create', '--json', '--permissions', 'read'], s.env.env);
    const { token } = JSON.parse(c.stdout);
    expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
  });

  it('an open SSE stream is closed within a second of its token being deleted', async () => {
    const { token, id } = await s.token(['read']);
    const other = await s.token(['read']);
    const ctl = new AbortController();
    const r = await s.fetch('/event', { token, signal: ctl.signal });
    const r2 = await s.fetch('/event', { token: other.token });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = r.body!.getReader();
    let text = '';
    const first = await reader.read();
    text += new TextDecoder().decode(first.value);
    expect(text).toMatch(/server\.connected/);
    expect((await runCli(['auth', 'token', 'delete', id], s.env.env)).code).toBe(0);
    const deleted = Date.now();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    expect(Date.now() - deleted).toBeLessThan(1000);
    expect(text).toMatch(/"type":"server.closing","properties":\{"reason":"token revoked"\}/);
    // The other token's stream is still open.
    const reader2 = r2.body!.getReader();
    expect((await reader2.read()).done).toBe(false);
    await reader2.cancel();
  });

  it('an SSE stream is closed within a second of its token expiring', async () => {
    const { token } = await s.token(['read'], { expiresAt: new Date(Date.now() + 1200).toISOString() });
    const r = await s.fetch('/event', { token });
    const reader = r.body!.getReader();
    let text = '';
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    expect(text).toMatch(/token expired/);
  });

  it('lastUsedAt is persisted and shown by `tether auth token list`', async () => {
    const { token, id } = await s.token(['read']);
    await s.fetch('/auth/whoami', { token });
    await waitFor(
      async () => {
        const l = await runCli(['auth', 'token', 'list', '--json'], s.env.env);
        return JSON.parse(l.stdout).find((t: { id: string; lastUsedAt: string | null }) => t.id === id)?.lastUsedAt;
      },
      { timeout: 8000, interval: 200, what: 'lastUsedAt' },
    );
  });

  it('a token file that turns bad keeps the last good state and is logged loudly', async () => {
    const { token } = await s.token(['read']);
    expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
    fs.writeFileSync(s.env.tokenFile, '{ corrupt');
    expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
    expect((await s.fetch('/auth/whoami', { headers: { authorization: `Bearer ${generateToken()}` } })).status).toBe(401);
    expect((await s.fetch('/auth/whoami')).status).toBe(401);
    const errors = s.logs.filter((l) => l.event === 'tokens.file_invalid');
    expect(errors).toHaveLength(1);
    expect(String(errors[0].error)).toMatch(/not valid JSON.*keeping the last good token list/);
  });
});
