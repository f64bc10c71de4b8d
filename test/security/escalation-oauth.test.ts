// tether's OAuth authorization server against a real server: the whole flow over HTTP (consent
// decided through the API with the approver's bearer token; the browser version is
// test/e2e/oauth.test.ts), and the attacks: an access token off /mcp, a refresh token as bearer, a
// replayed code, a wrong verifier, an unregistered redirect URI, a resource mismatch, a weaker
// token approving more than it holds, a rotated refresh token reused, a deleted grant.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_RULES, requiredPermissions } from '../../src/auth/policy.js';
import { deleteTokens, listTokens } from '../../src/auth/token-admin.js';
import { generateToken } from '../../src/auth/token-format.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { MAX_CLIENTS } from '../../src/auth/oauth/client-store.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { events } from '../audit/helpers.js';
import { mcpInitialize } from '../helpers/mcp.js';
import { REDIRECT, approvedCode, authorize, authorizeUrl, decide, pkce, redeem, refresh, register, registered, tokenCall } from '../helpers/oauth.js';

let s: TestServer;
let admin: string;
let adminId: string;
/** The last audit line of `kind` about `clientId`. */
const audited = (kind: string, clientId: string) =>
  events(s.env.auditDir)
    .filter((e) => e.kind === kind && e.clientId === clientId)
    .at(-1);

beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars(), sweepMs: 100 });
  ({ token: admin, id: adminId } = await s.token(['read', 'write', 'execute'], { name: 'admin' }));
  fs.writeFileSync(path.join(s.project, 'hello.txt'), 'hi\n');
  fs.mkdirSync(path.join(s.project, 'sub'));
});
afterAll(() => s.close());

/** A whole flow: register, authorize, approve with `approver`, redeem. */
async function grant(opts: { scope?: string; approve?: Record<string, unknown>; approver?: string } = {}) {
  const clientId = await registered(s.url);
  const { verifier, challenge } = pkce();
  const req = await authorize(s.url, clientId, challenge, opts.scope ? { scope: opts.scope } : {});
  const code = await approvedCode(s.url, opts.approver ?? admin, req, opts.approve);
  const t = await redeem(s.url, clientId, code, verifier);
  expect(t.status, JSON.stringify(t.body)).toBe(200);
  return { clientId, code, verifier, ...(t.body as { access_token: string; refresh_token: string; scope: string; expires_in: number }) };
}

const mcpInit = (token: string) => mcpInitialize(s.url, token);

describe('discovery', () => {
  it('the protected resource names tether as its authorization server, whose metadata names the endpoints', async () => {
    const prm = await (await fetch(`${s.url}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(prm.authorization_servers).toEqual([s.url]);
    const m = await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json();
    expect(m).toMatchObject({
      issuer: s.url,
      authorization_endpoint: `${s.url}/oauth/authorize`,
      token_endpoint: `${s.url}/oauth/token`,
      registration_endpoint: `${s.url}/oauth/register`,
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['read', 'write', 'execute'],
    });
  });
});

describe('the flow over HTTP', () => {
  it('a grant is a token record of kind oauth, its access token works on /mcp only, and deleting it ends them', async () => {
    const g = await grant({ scope: 'read write' });
    expect(g.scope).toBe('read write');
    expect(g.expires_in).toBe(3600);
    const listed = (await listTokens(s.env.tokenFile)).filter((t) => t.kind === 'oauth');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      name: 'oauth-Test-Client',
      permissions: ['read', 'write'],
      client: { id: g.clientId, name: 'Test Client', redirectHost: '127.0.0.1:9' },
      audience: `${s.url}/mcp`,
    });
    expect((await mcpInit(g.access_token)).status).toBe(200);
    // Audience binding: not on any other route.
    for (const p of ['/file?path=.', '/auth/whoami', '/config', '/oauth/request/x']) {
      const r = await s.fetch(p, { token: g.access_token });
      expect(r.status, p).toBe(403);
      expect((await r.json()).error.code).toBe('wrong_audience');
    }
    // The refresh token is never a bearer token, anywhere.
    for (const p of ['/mcp', '/file?path=.', '/auth/whoami']) expect((await s.fetch(p, { token: g.refresh_token })).status, p).toBe(401);
    expect(
      (await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: g.refresh_token }) }))
        .status,
    ).toBe(401);
    // Nor is an access token a web login.
    expect(
      (await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: g.access_token }) }))
        .status,
    ).toBe(401);
    await deleteTokens([listed[0].id], s.env.tokenFile);
    const after = await mcpInit(g.access_token);
    expect(after.status).toBe(401);
    expect((await refresh(s.url, g.clientId, g.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('an access token reaches no route but /mcp: every rule of the route table, and WebSocket upgrades', async () => {
    const g = await grant({ scope: 'read write' });
    const wrong: string[] = [];
    for (const rule of ROUTE_RULES) {
      const p = rule.path.replace(/:[A-Za-z]+/g, 'x').replace(/\*$/, 'x');
      if (p === '/mcp' || requiredPermissions({ method: rule.method, path: p, upgrade: false }).kind === 'public') continue;
      const r = await s.fetch(p, {
        method: rule.method,
        token: g.access_token,
        headers: { 'content-type': 'application/json', origin: s.url },
        body: rule.method === 'GET' ? undefined : '{}',
      });
      const code = r.status === 403 ? ((await r.json()) as { error: { code: string } }).error.code : `status ${r.status}`;
      if (code !== 'wrong_audience') wrong.push(`${rule.method} ${p}: ${code}`);
    }
    expect(wrong).toEqual([]);
    // An upgrade to a terminal with the access token as bearer: refused (403) before the terminal is
    // looked up, where a token of the token file gets as far as "no such terminal" (404).
    const upgrade = (token: string) =>
      new Promise<string>((resolve, reject) => {
        const port = new URL(s.url).port;
        const sock = net.connect(Number(port), '127.0.0.1', () =>
          sock.write(
            `GET /pty/x/connect HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
              'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          ),
        );
        let got = '';
        sock.on('data', (d) => (got += d.toString()));
        sock.on('close', () => resolve(got.split('\r\n')[0]));
        sock.on('error', reject);
      });
    expect(await upgrade(g.access_token)).toBe('HTTP/1.1 403 Forbidden');
    expect(await upgrade(admin)).toBe('HTTP/1.1 404 Not Found');
  });

  it('refresh rotates: the new pair works; the old refresh token coming back revokes the grant', async () => {
    const g = await grant();
    const grantId = (await listTokens(s.env.tokenFile)).find((t) => t.client?.id === g.clientId)!.id;
    const r1 = await refresh(s.url, g.clientId, g.refresh_token);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('cache-control')).toBe('no-store');
    expect(r1.body.refresh_token).not.toBe(g.refresh_token);
    expect((await mcpInit(r1.body.access_token)).status).toBe(200);
    // Only its own client may redeem it (refused, and nothing else happens).
    const other = await registered(s.url);
    expect((await refresh(s.url, other, r1.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await mcpInit(r1.body.access_token)).status).toBe(200);
    // The rotated-out token comes back: two parties hold this grant's tokens; it ends for both.
    const reuse = await refresh(s.url, g.clientId, g.refresh_token);
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_description: expect.stringMatching(/already used once.*revoked/) } });
    expect((await mcpInit(r1.body.access_token)).status).toBe(401);
    expect((await refresh(s.url, g.clientId, r1.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await listTokens(s.env.tokenFile)).some((t) => t.id === grantId)).toBe(false);
    expect(audited('oauth.revoke', g.clientId)).toMatchObject({ tokenId: grantId, reason: 'refresh_token_reused' });
  });

  it('two redemptions of one refresh token at once: exactly one wins, and the grant ends (a reuse)', async () => {
    const g = await grant();
    const both = await Promise.all([refresh(s.url, g.clientId, g.refresh_token), refresh(s.url, g.clientId, g.refresh_token)]);
    expect(both.map((b) => b.status).sort()).toEqual([200, 400]);
    const winner = both.find((b) => b.status === 200)!;
    expect((await mcpInit(winner.body.access_token)).status).toBe(401);
    expect((await listTokens(s.env.tokenFile)).some((t) => t.client?.id === g.clientId)).toBe(false);
  });

  it('a refresh token never issued, or of a deleted grant, revokes nothing else', async () => {
    const g = await grant();
    const stranger = await grant();
    for (const t of [generateToken(), 'not a token']) expect((await refresh(s.url, g.clientId, t)).body.error).toBe('invalid_grant');
    expect((await mcpInit(stranger.access_token)).status).toBe(200);
    expect((await mcpInit(g.access_token)).status).toBe(200);
  });

  it('a grant approved with a scope directory is confined to it (stored as its real path)', async () => {
    const g = await grant({ scope: 'read', approve: { scope: 'sub' } });
    const rec = (await listTokens(s.env.tokenFile)).find((t) => t.client?.id === g.clientId)!;
    expect(rec.scopes).toEqual([path.join(s.project, 'sub')]);
  });
});

describe('attacks', () => {
  it('a replayed code is refused and revokes the grant made from it', async () => {
    const g = await grant();
    const again = await redeem(s.url, g.clientId, g.code, g.verifier);
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await mcpInit(g.access_token)).status).toBe(401);
    expect((await listTokens(s.env.tokenFile)).some((t) => t.client?.id === g.clientId)).toBe(false);
    expect(audited('oauth.revoke', g.clientId)).toMatchObject({ reason: 'code_replayed', address: '127.0.0.1', tokenId: expect.stringMatching(/^tok_/) });
    // The approval that made it is on record too, with the approver as the actor.
    expect(audited('oauth.approve', g.clientId)).toMatchObject({
      tokenId: adminId,
      tokenName: 'admin',
      permissions: ['read', 'write'],
      redirectHost: '127.0.0.1:9',
    });
  });

  it('a wrong verifier, another client, another redirect URI or resource: refused, and the code is spent', async () => {
    const clientId = await registered(s.url);
    const other = await registered(s.url);
    for (const [extra, who, want] of [
      [{ code_verifier: pkce().verifier }, clientId, 'invalid_grant'],
      [{ code_verifier: 'short' }, clientId, 'invalid_grant'],
      [{}, other, 'invalid_grant'],
      [{ redirect_uri: 'http://127.0.0.1:9/other' }, clientId, 'invalid_grant'],
      [{ resource: 'http://evil.example/mcp' }, clientId, 'invalid_target'],
    ] as const) {
      const { verifier, challenge } = pkce();
      const code = await approvedCode(s.url, admin, await authorize(s.url, clientId, challenge));
      const r = await redeem(s.url, who, code, verifier, extra);
      expect(r.status, JSON.stringify(extra)).toBe(400);
      expect(r.body.error, JSON.stringify(extra)).toBe(want);
      if (want === 'invalid_grant') expect((await redeem(s.url, clientId, code, verifier)).body.error).toBe('invalid_grant');
    }
    expect((await tokenCall(s.url, { grant_type: 'authorization_code', client_id: clientId, code: 'x' })).body.error).toBe('invalid_grant');
    expect((await tokenCall(s.url, { grant_type: 'client_credentials', client_id: clientId })).body.error).toBe('unsupported_grant_type');
    expect((await tokenCall(s.url, { grant_type: 'refresh_token', client_id: 'client_unknown' })).status).toBe(401);
    const json = await fetch(`${s.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
  });

  it('an unregistered redirect URI is shown, never redirected to; a resource mismatch and plain PKCE go back as errors', async () => {
    const clientId = await registered(s.url);
    const { challenge } = pkce();
    const bad = await fetch(authorizeUrl(s.url, clientId, challenge, { redirect_uri: 'http://127.0.0.1:9/evil' }), { redirect: 'manual' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
    const unknown = await fetch(authorizeUrl(s.url, 'client_0123456789abcdefghijKL', challenge), { redirect: 'manual' });
    expect(unknown.status).toBe(400);
    for (const [extra, error] of [
      [{ resource: 'http://evil.example/mcp' }, 'invalid_target'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ scope: 'read admin' }, 'invalid_scope'],
    ] as const) {
      const r = await fetch(authorizeUrl(s.url, clientId, challenge, extra), { redirect: 'manual' });
      expect(r.status).toBe(302);
      const loc = new URL(r.headers.get('location')!);
      expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
      expect(loc.searchParams.get('error')).toBe(error);
      expect(loc.searchParams.get('state')).toBe('st-123');
      expect(loc.searchParams.get('iss')).toBe(s.url);
    }
  });

  it('an approver cannot grant more than it holds; read alone cannot decide; denial sends access_denied', async () => {
    const rw = (await s.token(['read', 'write'])).token;
    const ro = (await s.token(['read'])).token;
    const clientId = await registered(s.url);
    const req = await authorize(s.url, clientId, pkce().challenge, { scope: 'read execute' });
    // The consent page can read it with read...
    expect((await s.fetch(`/oauth/request/${req}`, { token: ro })).status).toBe(200);
    // ...but deciding needs write, and granting execute needs execute.
    expect((await decide(s.url, ro, req, { approve: true })).status).toBe(403);
    const r = await decide(s.url, rw, req, { approve: true });
    expect(r.status).toBe(403);
    expect((await r.json()).error.message).toMatch(/execute/);
    // Narrowing to what it holds works; widening beyond the request never does.
    expect((await decide(s.url, admin, req, { approve: true, permissions: ['read', 'write'] })).status).toBe(400);
    const ok = await decide(s.url, rw, req, { approve: true, permissions: ['read'] });
    expect(ok.status).toBe(200);
    // Decided once: gone.
    expect((await decide(s.url, admin, req, { approve: true })).status).toBe(404);
    const req2 = await authorize(s.url, clientId, pkce().challenge);
    const denied = new URL((await (await decide(s.url, admin, req2, { approve: false })).json()).redirect);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('code')).toBeNull();
  });

  it('a scope outside the project, or a scoped approver granting beyond its scope, is refused', async () => {
    const clientId = await registered(s.url);
    for (const scope of ['..', '/', '/etc', 'missing', 'hello.txt']) {
      const req = await authorize(s.url, clientId, pkce().challenge);
      const r = await decide(s.url, admin, req, { approve: true, scope });
      expect(r.status, scope).toBe(400);
    }
    const { token: scoped } = await createScoped(path.join(s.project, 'sub'));
    const req = await authorize(s.url, clientId, pkce().challenge);
    expect((await decide(s.url, scoped, req, { approve: true })).status).toBe(403);
    expect((await decide(s.url, scoped, req, { approve: true, scope: '.' })).status).toBe(403);
    expect((await decide(s.url, scoped, req, { approve: true, scope: 'sub' })).status).toBe(200);
  });

  it('registration: bad redirect URIs refused, oversized bodies refused, and the client table is bounded', async () => {
    expect((await register(s.url, { redirect_uris: ['http://evil.example/cb'] })).status).toBe(400);
    expect((await register(s.url, { redirect_uris: ['https://a.example/cb#x'] })).status).toBe(400);
    expect((await register(s.url, { client_name: 'x'.repeat(20_000) })).status).toBe(413);
    const r = await fetch(`${s.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(r.status).toBe(400);
    const file = path.join(s.env.dataHome, 'tether', 'oauth-clients.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).clients.length).toBeLessThanOrEqual(MAX_CLIENTS);
  });
});

describe('restarts and limits', () => {
  it('a restart forgets access tokens; the grant and its refresh token survive, and a refused refresh writes nothing', async () => {
    // Its own server on a fixed port: the grant's audience is the server's address, which a restart keeps.
    const port = await freePort();
    const s2 = await startTestServer({ registrars: await productionRegistrars(), port });
    try {
      const admin2 = (await s2.token()).token;
      const clientId = await registered(s2.url);
      const { verifier, challenge } = pkce();
      const code = await approvedCode(s2.url, admin2, await authorize(s2.url, clientId, challenge));
      const g = (await redeem(s2.url, clientId, code, verifier)).body;
      const init = (token: string) => mcpInitialize(s2.url, token);
      expect((await init(g.access_token)).status).toBe(200);
      const stat = () => fs.statSync(s2.env.tokenFile).mtimeMs;
      const before = stat();
      expect((await refresh(s2.url, clientId, 'tether_' + 'A'.repeat(28))).body.error).toBe('invalid_grant');
      expect(stat()).toBe(before);
      await s2.restart();
      expect(s2.url).toBe(`http://127.0.0.1:${port}`);
      expect((await init(g.access_token)).status).toBe(401);
      const r = await refresh(s2.url, clientId, g.refresh_token);
      expect(r.status).toBe(200);
      expect((await init(r.body.access_token)).status).toBe(200);
    } finally {
      await s2.close();
    }
  });

  it('a grant issued an instant ago works at once, even while the token file view may be a minute old', async () => {
    const s3 = await startTestServer({ registrars: await productionRegistrars(), tokenStalenessMs: 60_000 });
    try {
      const { token: approver } = await s3.token(['read', 'write', 'execute'], { name: 'approver' });
      const clientId = await registered(s3.url);
      const { verifier, challenge } = pkce();
      const code = await approvedCode(s3.url, approver, await authorize(s3.url, clientId, challenge));
      const g = (await redeem(s3.url, clientId, code, verifier)).body;
      expect((await mcpInitialize(s3.url, g.access_token)).status).toBe(200);
    } finally {
      await s3.close();
    }
  });

  it('registrations are rate limited per network', async () => {
    let limited: Response | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await register(s.url);
      if (r.status === 429) limited = r;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function createScoped(dir: string) {
  const { createToken } = await import('../../src/auth/token-admin.js');
  return createToken(
    { name: `scoped-${Date.now()}`, permissions: ['read', 'write', 'execute'], expiresAt: null, scopes: [fs.realpathSync(dir)] },
    s.env.tokenFile,
  );
}
