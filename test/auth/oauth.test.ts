// The authorization server's pure parts: registration rules, PKCE, the authorize checks, the policy's
// audience binding and approval rule, and the token index keeping grants out of its bearer lookup.
import { describe, expect, it } from 'vitest';
import { approvalRefusal, audienceAllows } from '../../src/auth/policy.js';
import { checkAuthorize, parseScope } from '../../src/auth/oauth/authorize.js';
import { verifierMatches, s256 } from '../../src/auth/oauth/pkce.js';
import { redirectUriProblem, sanitizeClientName, validateRegistration } from '../../src/auth/oauth/registration.js';
import { grantName } from '../../src/auth/oauth/grants.js';
import { ExpiringMap } from '../../src/auth/oauth/expiring.js';
import { AccessTokens } from '../../src/auth/oauth/access-tokens.js';
import { TokenIndex } from '../../src/auth/verify.js';
import { generateToken, hashToken } from '../../src/auth/token-format.js';
import type { OAuthClient } from '../../src/auth/oauth/client-store.js';

describe('redirect URIs', () => {
  it('accepts https and loopback http only', () => {
    for (const ok of ['https://app.example/cb', 'http://127.0.0.1/cb', 'http://127.0.0.1:33418/callback?x=1', 'http://[::1]:80/cb', 'http://localhost:5000/']) {
      expect(redirectUriProblem(ok), ok).toBeNull();
    }
    for (const bad of [
      'http://example.com/cb',
      'http://127.0.0.2/cb',
      'http://localhost.evil.com/cb',
      'http://127.0.0.1.nip.io/cb',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/html,hi',
      'custom-scheme://cb',
      'https://app.example/cb#frag',
      'https://user:pw@app.example/cb',
      'https://app.example/c b',
      'https://app.example/\u202ecb',
      '/relative',
      '',
      'https://' + 'a'.repeat(2000) + '.example/',
      42,
    ]) {
      expect(redirectUriProblem(bad), String(bad)).not.toBeNull();
    }
  });

  it('a registration holds 1-5 valid URIs, auth method none, and a printable name of at most 100 characters', () => {
    expect(validateRegistration({ redirect_uris: ['http://127.0.0.1/cb'] })).toMatchObject({ ok: true, value: { name: 'unnamed client' } });
    expect(validateRegistration({ redirect_uris: [] })).toMatchObject({ ok: false, error: 'invalid_redirect_uri' });
    expect(validateRegistration({ redirect_uris: Array.from({ length: 6 }, (_, i) => `http://127.0.0.1/${i}`) })).toMatchObject({ ok: false });
    expect(validateRegistration({ redirect_uris: ['http://evil.example/cb'] })).toMatchObject({ ok: false, error: 'invalid_redirect_uri' });
    expect(validateRegistration({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'client_secret_basic' })).toMatchObject({ ok: false });
    expect(validateRegistration({ redirect_uris: ['http://127.0.0.1/cb'], client_name: 'x'.repeat(101) })).toMatchObject({ ok: false });
    expect(validateRegistration({ redirect_uris: ['http://127.0.0.1/cb'], client_name: '\u202e\u0000\n' })).toMatchObject({ ok: false });
    expect(validateRegistration({ redirect_uris: ['http://127.0.0.1/cb'], grant_types: ['client_credentials'] })).toMatchObject({ ok: false });
    expect(validateRegistration([])).toMatchObject({ ok: false });
    expect(validateRegistration(null)).toMatchObject({ ok: false });
  });

  it('client names lose control, bidi and line characters', () => {
    expect(sanitizeClientName('Good\u202e Client\n\r\u0007  x')).toBe('Good Client x');
    expect(sanitizeClientName('<b>tag</b>')).toBe('<b>tag</b>'); // shown as text, never parsed
    expect(grantName('Claude Code (VS Code)', new Set())).toBe('oauth-Claude-Code-VS-Code');
    expect(grantName('<script>', new Set(['oauth-script']))).toBe('oauth-script-2');
    expect(grantName('日本', new Set())).toBe('oauth-client');
  });
});

describe('PKCE', () => {
  it('S256 only, verifier well formed and matching', () => {
    const v = 'a'.repeat(43);
    expect(verifierMatches(v, s256(v))).toBe(true);
    expect(verifierMatches('b'.repeat(43), s256(v))).toBe(false);
    expect(verifierMatches(v, v)).toBe(false); // "plain"
    expect(verifierMatches('short', s256('short'))).toBe(false);
    expect(verifierMatches(undefined, s256(v))).toBe(false);
    expect(verifierMatches('a'.repeat(129), s256('a'.repeat(129)))).toBe(false);
  });
});

describe('authorize checks', () => {
  const client: OAuthClient = { id: 'client_0123456789abcdefghijKL', name: 'C', redirectUris: ['http://127.0.0.1/cb'], createdAt: new Date().toISOString() };
  const find = (id: string) => (id === client.id ? client : undefined);
  const resource = 'http://127.0.0.1:4000/mcp';
  const base = {
    response_type: 'code',
    client_id: client.id,
    redirect_uri: 'http://127.0.0.1/cb',
    code_challenge: s256('a'.repeat(43)),
    code_challenge_method: 'S256',
    state: 's',
    resource,
  };
  const check = (over: Record<string, string | null>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...base, ...over })) if (v !== null) p.set(k, v);
    return checkAuthorize(p, find, resource);
  };

  it('shows (never redirects) errors until client and redirect URI are known', () => {
    expect(check({ client_id: null }).kind).toBe('show');
    expect(check({ client_id: 'client_nope' }).kind).toBe('show');
    expect(check({ redirect_uri: 'http://127.0.0.1/other' }).kind).toBe('show');
    expect(check({ redirect_uri: 'http://127.0.0.1/cb/' }).kind).toBe('show');
    const dup = new URLSearchParams({ ...base });
    dup.append('redirect_uri', 'http://evil.example/');
    expect(checkAuthorize(dup, find, resource).kind).toBe('show');
  });

  it('redirects the other errors back to the client with its state', () => {
    expect(check({ code_challenge_method: 'plain' })).toMatchObject({ kind: 'redirect', error: 'invalid_request', state: 's' });
    expect(check({ code_challenge_method: null })).toMatchObject({ kind: 'redirect', error: 'invalid_request' });
    expect(check({ code_challenge: 'short' })).toMatchObject({ kind: 'redirect', error: 'invalid_request' });
    expect(check({ response_type: 'token' })).toMatchObject({ kind: 'redirect', error: 'unsupported_response_type' });
    expect(check({ scope: 'read admin' })).toMatchObject({ kind: 'redirect', error: 'invalid_scope' });
    expect(check({ resource: 'http://127.0.0.1:4000/other' })).toMatchObject({ kind: 'redirect', error: 'invalid_target' });
    expect(check({ resource: 'http://evil.example/mcp' })).toMatchObject({ kind: 'redirect', error: 'invalid_target' });
  });

  it('a valid request asks for read by default, or the scopes named', () => {
    expect(check({})).toMatchObject({ kind: 'ok', request: { permissions: ['read'], resource } });
    expect(check({ scope: 'execute read' })).toMatchObject({ kind: 'ok', request: { permissions: ['read', 'execute'] } });
    expect(check({ resource: null })).toMatchObject({ kind: 'ok', request: { resource } });
    expect(parseScope('read root')).toBeNull();
    expect(parseScope('write  read')).toEqual(['read', 'write']);
  });
});

describe('policy: audience and approval', () => {
  it('an oauth grant is accepted on /mcp and on the dispatcher forwards only', () => {
    expect(audienceAllows('oauth', '/mcp', false)).toBe(true);
    expect(audienceAllows('oauth', '/file', false)).toBe(false);
    expect(audienceAllows('oauth', '/mcp/', false)).toBe(false);
    expect(audienceAllows('oauth', '/oauth/request/x', false)).toBe(false);
    expect(audienceAllows('oauth', '/file', true)).toBe(true);
    expect(audienceAllows(undefined, '/file', false)).toBe(true);
    expect(audienceAllows('device', '/pty', false)).toBe(true);
  });

  it('an approver grants at most its own permissions and scopes', () => {
    const all = ['read', 'write', 'execute'] as const;
    expect(approvalRefusal({ permissions: [...all], scopes: null }, { permissions: [...all], scopes: null })).toBeNull();
    expect(approvalRefusal({ permissions: ['read', 'write'], scopes: null }, { permissions: ['read', 'execute'], scopes: null })).toMatch(/execute/);
    expect(approvalRefusal({ permissions: [...all], scopes: ['/p/app'] }, { permissions: ['read'], scopes: null })).toMatch(/scoped/);
    expect(approvalRefusal({ permissions: [...all], scopes: ['/p/app'] }, { permissions: ['read'], scopes: ['/p/app/sub'] })).toBeNull();
    expect(approvalRefusal({ permissions: [...all], scopes: ['/p/app'] }, { permissions: ['read'], scopes: ['/p/app2'] })).toMatch(/outside/);
    expect(approvalRefusal({ permissions: [...all], scopes: ['/p/app'] }, { permissions: ['read'], scopes: ['/p/app/../x'] })).toMatch(/outside/);
  });
});

describe('in-memory stores', () => {
  it("the token index never takes an oauth grant's refresh token as a bearer token, but knows the grant by id", () => {
    const refresh = generateToken();
    const grant = {
      id: 'tok_0123456789',
      name: 'oauth-x',
      hash: hashToken(refresh),
      permissions: ['read' as const],
      createdAt: new Date().toISOString(),
      expiresAt: null,
      lastUsedAt: null,
      kind: 'oauth' as const,
      client: { id: 'client_0123456789abcdefghijKL', name: 'x', redirectHost: '127.0.0.1' },
      audience: 'http://127.0.0.1/mcp',
    };
    const index = new TokenIndex({ version: 2, tokens: [grant] });
    expect(index.verify(refresh)).toMatchObject({ ok: false, reason: 'unknown' });
    expect(index.isActive(grant.id)).toBe(true);
    expect(index.get(grant.id)?.kind).toBe('oauth');
  });

  it('access tokens expire, are bounded, and go with their grant', () => {
    let now = 0;
    const a = new AccessTokens(1000, 3, () => now);
    const t1 = a.issue('g1', 'aud').token;
    expect(a.lookup(t1)).toMatchObject({ grantId: 'g1', audience: 'aud' });
    now = 1000;
    expect(a.lookup(t1)).toBeUndefined();
    const t2 = a.issue('g2', 'aud').token;
    a.issue('g2', 'aud');
    a.issue('g3', 'aud');
    a.issue('g3', 'aud');
    expect(a.size).toBe(3);
    expect(a.lookup(t2)).toBeUndefined(); // the oldest made room
    a.dropGrant('g3');
    expect(a.size).toBe(1);
    expect(a.lookup('tether_notatoken')).toBeUndefined();
  });

  it('pending requests and codes expire and are bounded', () => {
    let now = 0;
    const m = new ExpiringMap<number>(100, 2, () => now);
    m.set('a', 1);
    m.set('b', 2);
    m.set('c', 3);
    expect(m.get('a')).toBeUndefined();
    expect(m.get('c')).toBe(3);
    now = 100;
    expect(m.get('c')).toBeUndefined();
  });
});
