// Pairing over HTTP: POST /auth/pair/code (a token asks for a code), GET/DELETE /auth/pair/code/:id
// (its creator watches or cancels it), POST /auth/pair (the device exchanges the code for a device
// token it never sees, and a web login). On a fake clock for the five minutes.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken, listTokens } from '../../src/auth/token-admin.js';
import { PAIRING_REFUSED_MESSAGE, PAIRING_TTL_MS } from '../../src/auth/pairing.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const ANDROID = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';

let s: TestServer;
const clock = { t: Date.now() };
beforeEach(async () => {
  clock.t = Date.now();
  s = await startTestServer({ pairing: { now: () => clock.t } });
});
afterEach(() => s.close());

const json = { 'content-type': 'application/json' };

async function newCode(token: string, body: unknown = {}) {
  const r = await s.fetch('/auth/pair/code', { method: 'POST', token, headers: json, body: JSON.stringify(body) });
  return { r, body: await r.json() };
}

async function redeem(code: string, userAgent = ANDROID) {
  const r = await s.fetch('/auth/pair', { method: 'POST', headers: { ...json, 'user-agent': userAgent }, body: JSON.stringify({ code }) });
  const body = await r.json();
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0];
  return { r, body, headers: { cookie, 'x-tether-session': body.sessionKey ?? '' } };
}

describe('pairing a device', () => {
  it('a code is exchanged once for a new device token, logged in at once, never shown', async () => {
    const admin = await s.token(['read', 'write', 'execute'], { name: 'admin' });
    const { r, body: created } = await newCode(admin.token, { permissions: ['read', 'write'] });
    expect(r.status).toBe(201);
    expect(created).toMatchObject({ state: 'pending', grant: { name: null, permissions: ['read', 'write'] } });
    expect(created.code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Date.parse(created.expiresAt) - clock.t).toBe(PAIRING_TTL_MS);

    const paired = await redeem(created.code);
    expect(paired.r.status).toBe(200);
    expect(Object.keys(paired.body).sort()).toEqual(['expiresAt', 'id', 'name', 'permissions', 'sessionKey']);
    expect(paired.body).toMatchObject({ name: 'Chrome-on-Android', permissions: ['read', 'write'] });
    expect(paired.r.headers.get('set-cookie')).toMatch(/^tether_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/);
    // No token anywhere in the answer: the device uses its token only through this login.
    expect(JSON.stringify(paired.body) + paired.r.headers.get('set-cookie')).not.toMatch(/tether_[0-9A-Za-z]{28}/);
    const who = await s.fetch('/auth/whoami', { headers: paired.headers });
    expect(await who.json()).toMatchObject({ id: paired.body.id, name: 'Chrome-on-Android', permissions: ['read', 'write'], authenticatedBy: 'cookie' });

    const list = await listTokens(s.env.tokenFile);
    expect(list.find((t) => t.id === paired.body.id)).toMatchObject({ kind: 'device', name: 'Chrome-on-Android', permissions: ['read', 'write'] });
    const status = await s.fetch(`/auth/pair/code/${created.id}`, { token: admin.token });
    expect(await status.json()).toMatchObject({ id: created.id, state: 'paired', device: { id: paired.body.id, name: 'Chrome-on-Android' } });

    // Used: the same code again is refused with the one message.
    const again = await redeem(created.code);
    expect(again.r.status).toBe(410);
    expect(again.body.error).toEqual({ code: 'pairing_code_invalid', message: PAIRING_REFUSED_MESSAGE });
    expect(again.r.headers.get('set-cookie')).toBeNull();
  });

  it('a code works until 5 minutes have passed (fake clock), then gives the same message as a used one', async () => {
    const admin = await s.token();
    const early = (await newCode(admin.token)).body;
    const late = (await newCode(admin.token)).body;
    clock.t += PAIRING_TTL_MS - 1;
    expect((await redeem(early.code)).r.status).toBe(200);
    clock.t += 1;
    const r = await redeem(late.code);
    expect(r.r.status).toBe(410);
    expect(r.body.error.message).toBe(PAIRING_REFUSED_MESSAGE);
    expect(await (await s.fetch(`/auth/pair/code/${late.id}`, { token: admin.token })).json()).toMatchObject({ state: 'expired' });
  });

  it('cancelled and made-up codes get the same answer as used and expired ones', async () => {
    const admin = await s.token();
    const c = (await newCode(admin.token)).body;
    const del = await s.fetch(`/auth/pair/code/${c.id}`, { method: 'DELETE', token: admin.token });
    expect(del.status).toBe(204);
    const answers = [await redeem(c.code), await redeem('A'.repeat(22)), await redeem('not-even-the-right-length')];
    for (const a of answers) {
      expect(a.r.status).toBe(410);
      expect(a.body).toEqual({ error: { code: 'pairing_code_invalid', message: PAIRING_REFUSED_MESSAGE } });
    }
    // Cancelling twice, or a used code, is a conflict naming its state.
    const twice = await s.fetch(`/auth/pair/code/${c.id}`, { method: 'DELETE', token: admin.token });
    expect(twice.status).toBe(409);
    expect((await twice.json()).error.message).toMatch(/cancelled/);
  });

  it('concurrent redemptions of one code make exactly one device token', async () => {
    const admin = await s.token();
    const c = (await newCode(admin.token)).body;
    const before = (await listTokens(s.env.tokenFile)).length;
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(c.code)));
    expect(results.map((x) => x.r.status).sort()).toEqual([200, ...Array(19).fill(410)]);
    const tokens = await listTokens(s.env.tokenFile);
    expect(tokens.length).toBe(before + 1);
    expect(tokens.filter((t) => t.kind === 'device')).toHaveLength(1);
  });

  it('the code never appears in the server log, nor the device token', async () => {
    const admin = await s.token();
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push((await newCode(admin.token)).body.code);
    await redeem(codes[0]);
    await redeem(codes[0]);
    await s.fetch(`/auth/pair/code/${(await newCode(admin.token)).body.id}`, { method: 'DELETE', token: admin.token });
    const log = JSON.stringify(s.logs);
    expect(s.logs.map((l) => l.event)).toEqual(expect.arrayContaining(['pairing.code_created', 'pairing.used', 'pairing.code_cancelled', 'auth.failure']));
    for (const c of codes) expect(log).not.toContain(c);
    expect(log).not.toMatch(/tether_[0-9A-Za-z]{28}/);
  });

  it('devices are named after --name or the browser, made unique', async () => {
    const admin = await s.token();
    const a = await redeem((await newCode(admin.token)).body.code);
    const b = await redeem((await newCode(admin.token)).body.code);
    const named = await redeem((await newCode(admin.token, { name: 'kitchen-tablet' })).body.code, 'curl/8');
    expect([a.body.name, b.body.name, named.body.name]).toEqual(['Chrome-on-Android', 'Chrome-on-Android-2', 'kitchen-tablet']);
    // A name already taken is refused when the code is made, not when the device arrives.
    const taken = await newCode(admin.token, { name: 'kitchen-tablet' });
    expect(taken.r.status).toBe(409);
    expect(taken.body.error.message).toMatch(/already exists; choose another --name/);
  });

  it("only the code's creator sees or cancels it; to others it does not exist", async () => {
    const admin = await s.token();
    const other = await s.token();
    const c = (await newCode(admin.token)).body;
    for (const method of ['GET', 'DELETE']) {
      const r = await s.fetch(`/auth/pair/code/${c.id}`, { method, token: other.token });
      expect(r.status, method).toBe(404);
      const fake = await s.fetch(`/auth/pair/code/pair_0000000000000000`, { method, token: other.token });
      expect((await r.json()).error.message.replace(c.id, 'X')).toBe((await fake.json()).error.message.replace('pair_0000000000000000', 'X'));
    }
    expect((await redeem(c.code)).r.status).toBe(200);
  });

  it('deleting the token that made a code cancels it', async () => {
    const admin = await s.token();
    const c = (await newCode(admin.token)).body;
    expect((await runCli(['auth', 'token', 'delete', admin.id], s.env.env)).code).toBe(0);
    expect((await redeem(c.code)).r.status).toBe(410);
  });
});

describe('what a code may grant', () => {
  it('a read token cannot create a pairing code at all; a read+write token cannot grant execute', async () => {
    const read = await s.token(['read']);
    const r = await newCode(read.token, { permissions: ['read'] });
    expect(r.r.status).toBe(403);
    expect(r.body.error.code).toBe('insufficient_permissions');
    const rw = await s.token(['read', 'write']);
    for (const permissions of [['read', 'write', 'execute'], ['execute']]) {
      const x = await newCode(rw.token, { permissions });
      expect(x.r.status).toBe(403);
      expect(x.body.error).toMatchObject({ code: 'grant_exceeds_token', message: expect.stringMatching(/lacks execute permission/) });
    }
    expect(s.server.ctx.pairing!.codes.pendingCount).toBe(0);
    // Without --permissions a code grants the creator's own, no more.
    expect((await newCode(rw.token)).body.grant.permissions).toEqual(['read', 'write']);
    expect((await newCode(rw.token, { permissions: ['read'] })).body.grant.permissions).toEqual(['read']);
  });

  it('a device cannot outlive its pairer: the default follows its expiry, a later one is refused', async () => {
    const exp = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const short = await s.token(['read', 'write'], { expiresAt: exp });
    expect((await newCode(short.token)).body.grant.expiresAt).toBe(exp);
    for (const expiresAt of [null, new Date(Date.parse(exp) + 1000).toISOString()]) {
      const r = await newCode(short.token, { expiresAt });
      expect(r.r.status).toBe(403);
      expect(r.body.error.code).toBe('expiry_exceeds_token');
    }
    const past = await newCode(short.token, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.r.status).toBe(400);
    // An unexpiring admin's default is 90 days.
    const admin = await s.token();
    expect(Date.parse((await newCode(admin.token)).body.grant.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
  });

  it('scopes: resolved to real existing directories; a scoped token pairs only inside its scopes (default: its own)', async () => {
    const app = path.join(s.project, 'app');
    fs.mkdirSync(path.join(app, 'web'), { recursive: true });
    fs.symlinkSync(path.join(app, 'web'), path.join(s.project, 'link'));
    fs.writeFileSync(path.join(s.project, 'file.txt'), 'x');
    const admin = await s.token();
    const viaLink = await newCode(admin.token, { scopes: [path.join(s.project, 'link')] });
    expect(viaLink.body.grant.scopes).toEqual([path.join(app, 'web')]);
    expect((await newCode(admin.token, { scopes: [path.join(s.project, 'nope')] })).body.error).toMatchObject({ code: 'bad_scope', message: /does not exist/ });
    expect((await newCode(admin.token, { scopes: [path.join(s.project, 'file.txt')] })).body.error).toMatchObject({
      code: 'bad_scope',
      message: /not a directory/,
    });
    expect((await newCode(admin.token, { scopes: ['relative/dir'] })).r.status).toBe(400);

    const { token: scoped } = await createToken({ name: 'scoped', permissions: ['read', 'write'], expiresAt: null, scopes: [app] }, s.env.tokenFile);
    const inherited = await newCode(scoped);
    expect(inherited.body.grant.scopes).toEqual([app]);
    expect((await newCode(scoped, { scopes: [path.join(app, 'web')] })).r.status).toBe(201);
    const outside = await newCode(scoped, { scopes: [s.project] });
    expect(outside.r.status).toBe(403);
    expect(outside.body.error.code).toBe('scope_outside');
    // The device token carries the scopes.
    const paired = await redeem(inherited.body.code);
    expect((await listTokens(s.env.tokenFile)).find((t) => t.id === paired.body.id)?.scopes).toEqual([app]);
  });

  it('scopes asked for outside what the creator reaches are refused before the server looks at them: one answer, whether they exist or not', async () => {
    const { token: rw } = await s.token(['read', 'write']);
    const answers = [];
    for (const p of ['/etc', '/no/such/dir-7f3a', '/etc/passwd', path.join(s.project, '..'), `${s.project}/../etc`]) {
      const r = await newCode(rw, { scopes: [p] });
      expect(r.r.status, p).toBe(403);
      expect(r.body.error.code, p).toBe('scope_outside');
      expect(r.body.error.message, p).not.toMatch(/exist|not a directory|symlink|cannot be resolved/);
      answers.push(r.body.error.message.replace(p, 'P'));
    }
    // The same sentence for each, but for the path as it was written.
    expect(new Set(answers).size).toBe(1);
    // A scoped token: the same, for a place outside its scopes that does not exist.
    const sub = path.join(s.project, 'sub');
    fs.mkdirSync(sub);
    const { token: scoped } = await createToken({ name: 'sub-only', permissions: ['read', 'write'], expiresAt: null, scopes: [sub] }, s.env.tokenFile);
    const r = await newCode(scoped, { scopes: [path.join(s.project, 'nope')] });
    expect(r.r.status).toBe(403);
    expect(r.body.error.code).toBe('scope_outside');
  });

  it('malformed bodies are 400 and create nothing', async () => {
    const admin = await s.token();
    for (const body of [{ permissions: [] }, { permissions: ['admin'] }, { name: 'has space' }, { extra: 1 }, { expiresAt: 'tomorrow' }, { scopes: [] }]) {
      expect((await newCode(admin.token, body)).r.status, JSON.stringify(body)).toBe(400);
    }
    for (const body of ['{}', '{"code":1}', '{"code":""}', `{"code":"${'a'.repeat(200)}"}`, 'not json']) {
      expect((await s.fetch('/auth/pair', { method: 'POST', headers: json, body })).status, body).toBe(400);
    }
    expect(s.server.ctx.pairing!.codes.pendingCount).toBe(0);
  });
});

describe('brute force', () => {
  it('is rate-limited like failed logins: 429 after 30 failures, and then even a right code waits (and stays valid)', async () => {
    const admin = await s.token();
    const c = (await newCode(admin.token)).body;
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await redeem(`guess${i}`.padEnd(22, 'x'))).r.status);
    expect(statuses.slice(0, 30).every((x) => x === 410)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
    const right = await redeem(c.code);
    expect(right.r.status).toBe(429);
    expect(Number(right.r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await (await s.fetch(`/auth/pair/code/${c.id}`, { token: admin.token })).json()).toMatchObject({ state: 'pending' });
    // The token holder is not throttled.
    expect((await s.fetch('/auth/whoami', { token: admin.token })).status).toBe(200);
  });
});

describe('the device afterwards', () => {
  it('auth token list shows it as a device, with its last use and address', async () => {
    const admin = await s.token();
    const paired = await redeem((await newCode(admin.token)).body.code);
    expect((await s.fetch('/auth/whoami', { headers: paired.headers })).status).toBe(200);
    const listed = await waitFor(
      async () => {
        // Wide enough for the full table (the narrow layouts leave out the address).
        const r = await runCli(['auth', 'token', 'list'], { ...s.env.env, COLUMNS: '250' });
        return /Chrome-on-Android +device +read,write,execute +.* 127\.0\.0\.1 +active( +all)?\n/.test(r.stdout) && r.stdout;
      },
      { what: 'the last use to be recorded', timeout: 15_000, interval: 250 },
    );
    expect(listed).toMatch(/KIND/);
    const json = JSON.parse((await runCli(['auth', 'token', 'list', '--json'], s.env.env)).stdout);
    expect(json.find((t: any) => t.id === paired.body.id)).toMatchObject({ kind: 'device', lastUsedFrom: '127.0.0.1', lastUsedAt: expect.any(String) });
  });

  it('auth token delete logs the device out from its next request, its stored login leaves the file and never comes back', async () => {
    const admin = await s.token();
    const paired = await redeem((await newCode(admin.token)).body.code);
    expect((await s.fetch('/auth/whoami', { headers: paired.headers })).status).toBe(200);
    expect((await runCli(['auth', 'token', 'delete', paired.body.id], s.env.env)).code).toBe(0);
    expect((await s.fetch('/auth/whoami', { headers: paired.headers })).status).toBe(401);
    // The stored login leaves the file at the next sweep (however soon after pairing the token was
    // deleted: the sweep learns of every load of the token file, test/server/token-gone.test.ts).
    const file = path.join(s.env.dataHome, 'tether', 'web-logins.json');
    await waitFor(() => !fs.readFileSync(file, 'utf8').includes(paired.body.id), { what: 'the login to leave the file', timeout: 5000 });
    // A restart restores the stored logins: not this one, whose token is gone.
    await s.restart();
    expect((await s.fetch('/auth/whoami', { headers: paired.headers })).status).toBe(401);
  });

  it('logging the device out deletes its token: nobody else could ever use it', async () => {
    const admin = await s.token();
    const paired = await redeem((await newCode(admin.token)).body.code);
    const out = await s.fetch('/auth/session', { method: 'DELETE', headers: { ...paired.headers, origin: s.url } });
    expect(out.status).toBe(204);
    expect((await listTokens(s.env.tokenFile)).map((t) => t.id)).not.toContain(paired.body.id);
    expect(s.logs.find((l) => l.event === 'token.deleted')).toMatchObject({ tokenId: paired.body.id });
    // An ordinary token's logout leaves the token alone.
    const login = await s.fetch('/auth/session', { method: 'POST', headers: json, body: JSON.stringify({ token: admin.token }) });
    const key = (await login.json()).sessionKey;
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect((await s.fetch('/auth/session', { method: 'DELETE', headers: { cookie, 'x-tether-session': key, origin: s.url } })).status).toBe(204);
    expect((await listTokens(s.env.tokenFile)).map((t) => t.id)).toContain(admin.id);
  });
});

describe('without authentication', () => {
  it('--no-auth has nothing to pair', async () => {
    const open = await startTestServer({ auth: false });
    try {
      const r = await open.fetch('/auth/pair/code', { method: 'POST', headers: json, body: '{}' });
      expect(r.status).toBe(400);
      expect((await r.json()).error.code).toBe('auth_disabled');
      expect((await open.fetch('/auth/pair', { method: 'POST', headers: json, body: '{"code":"x"}' })).status).toBe(400);
    } finally {
      await open.close();
    }
  });
});
