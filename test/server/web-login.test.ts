import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { MAX_WEB_LOGINS_PER_TOKEN, WebLogins } from '../../src/auth/web-logins.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

async function login(token: string) {
  const r = await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json', origin: s.url }, body: JSON.stringify({ token }) });
  const body = r.ok ? ((await r.clone().json()) as { sessionKey: string }) : { sessionKey: '' };
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
  // What a page sends: the cookie (by the browser) and the key (by the page's script).
  return { r, cookie, key: body.sessionKey, headers: { cookie, 'x-tether-session': body.sessionKey } };
}

describe('web session cookie', () => {
  it('exchanges a token for an HttpOnly SameSite=Strict cookie bound to it', async () => {
    const { token, id } = await s.token(['read', 'write'], { name: 'browser' });
    const { r, key, headers } = await login(token);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ id, name: 'browser', permissions: ['read', 'write'], expiresAt: null, sessionKey: key });
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const set = r.headers.get('set-cookie')!;
    expect(set).toMatch(/^tether_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    expect(set).not.toContain(token);
    expect(set).not.toContain(key);
    const who = await s.fetch('/auth/whoami', { headers });
    expect(await who.json()).toMatchObject({ id, authenticatedBy: 'cookie' });
  });

  it('the cookie alone, or with a wrong key, authenticates nothing (cookies are not port-scoped)', async () => {
    const { token } = await s.token(['read']);
    const { cookie } = await login(token);
    const alone = await s.fetch('/auth/whoami', { headers: { cookie } });
    expect(alone.status).toBe(401);
    expect((await alone.json()).error.message).toMatch(/x-tether-session header/);
    const other = await login((await s.token(['read'])).token);
    expect((await s.fetch('/auth/whoami', { headers: { cookie, 'x-tether-session': other.key } })).status).toBe(401);
    expect((await s.fetch('/auth/whoami', { headers: { cookie, 'x-tether-session': '' } })).status).toBe(401);
  });

  it('cookie writes need a matching Origin: none -> 401, foreign -> 403, own -> allowed', async () => {
    const { token } = await s.token(['read', 'write', 'execute']);
    const { headers: auth } = await login(token);
    const patch = (headers: Record<string, string>) =>
      s.fetch('/config', { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'm' }) });
    const none = await patch({});
    expect(none.status).toBe(401);
    expect((await none.json()).error.message).toMatch(/must carry an Origin/);
    expect((await patch({ origin: 'https://evil.example' })).status).toBe(403);
    expect((await patch({ origin: s.url })).status).toBe(200);
  });

  it('the cookie carries only the token permissions', async () => {
    const { token } = await s.token(['read']);
    const { headers } = await login(token);
    const r = await s.fetch('/config', { method: 'PATCH', headers: { ...headers, origin: s.url, 'content-type': 'application/json' }, body: '{}' });
    expect(r.status).toBe(403);
  });

  it('deleting the token ends the web session at once', async () => {
    const { token, id } = await s.token(['read']);
    const { headers } = await login(token);
    expect((await s.fetch('/auth/whoami', { headers })).status).toBe(200);
    expect((await runCli(['auth', 'token', 'delete', id], s.env.env)).code).toBe(0);
    expect((await s.fetch('/auth/whoami', { headers })).status).toBe(401);
  });

  it('logout ends the session', async () => {
    const { token } = await s.token(['read']);
    const { cookie, headers } = await login(token);
    // Without the key, a logout (e.g. forged by another page on this host) ends nothing.
    await s.fetch('/auth/session', { method: 'DELETE', headers: { cookie, origin: s.url } });
    expect((await s.fetch('/auth/whoami', { headers })).status).toBe(200);
    const out = await s.fetch('/auth/session', { method: 'DELETE', headers: { ...headers, origin: s.url } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    const r = await s.fetch('/auth/whoami', { headers });
    expect(r.status).toBe(401);
    expect((await r.json()).error.message).toMatch(/web session has ended/);
  });

  it('a forged or random cookie is refused', async () => {
    expect((await s.fetch('/auth/whoami', { headers: { cookie: 'tether_session=forged', 'x-tether-session': 'forged' } })).status).toBe(401);
  });

  it('bad logins are 401, then 429 after 30 failures; a good one still works', async () => {
    const { token } = await s.token(['read']);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await login(generateToken())).r.status);
    expect(statuses.slice(0, 30).every((x) => x === 401)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    expect((await login(token)).r.status).toBe(200);
    const bad = await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 1 }) });
    expect(bad.status).toBe(400);
  });

  it('a login from another origin is refused before anything else', async () => {
    const { token } = await s.token(['read']);
    const r = await s.fetch('/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ token }),
    });
    expect(r.status).toBe(403);
    expect(r.headers.get('set-cookie')).toBeNull();
  });
});

describe('web login caps: one token cannot log others out', () => {
  it('1,000 logins by a read token leave another user logged in; the token keeps only its newest 16', async () => {
    const victim = await login((await s.token(['read', 'write', 'execute'])).token);
    const { token } = await s.token(['read']);
    const mine: { headers: Record<string, string> }[] = [];
    // In batches (order within a batch does not matter: only the last batch's newest survive).
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => login(token)));
      for (const l of batch) expect(l.r.status).toBe(200);
      mine.push(...batch);
    }
    expect((await s.fetch('/auth/whoami', { headers: victim.headers })).status).toBe(200);
    expect(s.server.ctx.webLogins.size).toBe(1 + MAX_WEB_LOGINS_PER_TOKEN);
    // Its own oldest went first; its newest still work.
    expect((await s.fetch('/auth/whoami', { headers: mine[0].headers })).status).toBe(401);
    const lastBatch = await Promise.all(mine.slice(-50).map(async (l) => (await s.fetch('/auth/whoami', { headers: l.headers })).status));
    expect(lastBatch.filter((st) => st === 200)).toHaveLength(MAX_WEB_LOGINS_PER_TOKEN);
  });
});

describe('WebLogins', () => {
  it('at the global cap new logins are refused (429), nobody is evicted', () => {
    const w = new WebLogins({ max: 4, maxPerToken: 2, now: () => 0 });
    const a = w.create('tok_a', null);
    const a2 = w.create('tok_a', null);
    const b = w.create('tok_b', null);
    const c = w.create('tok_c', null);
    expect(() => w.create('tok_d', null)).toThrow(expect.objectContaining({ status: 429, code: 'too_many_logins' }));
    expect(() => w.create('tok_b', null)).toThrow(expect.objectContaining({ status: 429 }));
    for (const [l, t] of [
      [a, 'tok_a'],
      [a2, 'tok_a'],
      [b, 'tok_b'],
      [c, 'tok_c'],
    ] as const)
      expect(w.lookup(l.id, l.key)).toBe(t);
    // A token at its own cap replaces its own oldest, even when the server is full.
    const a3 = w.create('tok_a', null);
    expect(w.lookup(a.id, a.key)).toBeNull();
    expect(w.lookup(a2.id, a2.key)).toBe('tok_a');
    expect(w.lookup(a3.id, a3.key)).toBe('tok_a');
    expect(w.lookup(b.id, b.key)).toBe('tok_b');
    expect(w.size).toBe(4);
  });

  it('expired logins free their place before the cap is judged', () => {
    let now = 0;
    const w = new WebLogins({ max: 1, now: () => now });
    w.create('tok_a', new Date(1000).toISOString());
    now = 1001;
    expect(() => w.create('tok_b', null)).not.toThrow();
  });

  it('a wrong key of the right length or of another length finds nothing', () => {
    const w = new WebLogins();
    const l = w.create('tok_a', null);
    expect(
      w.lookup(
        l.id,
        l.key.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')),
      ),
    ).toBeNull();
    expect(w.lookup(l.id, '')).toBeNull();
    expect(w.lookup(l.id, l.key + 'x')).toBeNull();
    expect(w.lookup('nope', l.key)).toBeNull();
  });
});
