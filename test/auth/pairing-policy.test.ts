// What a pairing code may grant (pairingGrantDecision in src/auth/policy.ts): never more than the
// token creating it holds, in permissions, lifetime and scope. And the device name from a browser.
import { describe, expect, it } from 'vitest';
import { deviceNameFromUserAgent } from '../../src/auth/device-name.js';
import type { Permission } from '../../src/auth/permissions.js';
import { PERMISSIONS } from '../../src/auth/permissions.js';
import { mayManagePairing, pairingGrantDecision, pairingScopeRefusal, requiredPermissions, scopeWithin } from '../../src/auth/policy.js';
import { NAME_PATTERN } from '../../src/auth/token-record.js';

const subsets = (): Permission[][] => {
  const out: Permission[][] = [];
  for (let m = 1; m < 1 << PERMISSIONS.length; m++) out.push(PERMISSIONS.filter((_, i) => m & (1 << i)));
  return out;
};

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('pairingGrantDecision: a token grants a device at most what it holds', () => {
  it('a read token cannot create a pairing code that grants more than read', () => {
    const creator = { permissions: ['read'] as Permission[], expiresAt: null };
    for (const p of subsets()) {
      const d = pairingGrantDecision(creator, { permissions: p, expiresAt: null });
      expect(d.ok, p.join(',')).toBe(p.length === 1 && p[0] === 'read');
    }
    const d = pairingGrantDecision(creator, { permissions: ['read', 'execute'], expiresAt: null });
    expect(d).toMatchObject({ ok: false, code: 'grant_exceeds_token' });
    expect(!d.ok && d.message).toMatch(/lacks execute permission/);
  });

  it('every pair of permission sets: allowed exactly when the grant is a subset', () => {
    for (const held of subsets()) {
      for (const asked of subsets()) {
        const ok = asked.every((p) => held.includes(p));
        expect(
          pairingGrantDecision({ permissions: held, expiresAt: null }, { permissions: asked, expiresAt: null }).ok,
          `${held.join()} -> ${asked.join()}`,
        ).toBe(ok);
      }
    }
  });

  it('the route itself needs read + write before the body is judged (a read-only token never gets that far)', () => {
    expect(requiredPermissions({ method: 'POST', path: '/auth/pair/code', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'write'] });
    expect(requiredPermissions({ method: 'GET', path: '/auth/pair/code/pair_0123456789abcdef', upgrade: false })).toEqual({
      kind: 'requires',
      permissions: ['read'],
    });
    expect(requiredPermissions({ method: 'DELETE', path: '/auth/pair/code/pair_0123456789abcdef', upgrade: false })).toEqual({
      kind: 'requires',
      permissions: ['write'],
    });
    expect(requiredPermissions({ method: 'POST', path: '/auth/pair', upgrade: false })).toEqual({ kind: 'public' });
    expect(requiredPermissions({ method: 'GET', path: '/pair', upgrade: false })).toEqual({ kind: 'public' });
    // Only those methods are public, and never an upgrade.
    expect(requiredPermissions({ method: 'GET', path: '/auth/pair', upgrade: false }).kind).toBe('requires');
    expect(requiredPermissions({ method: 'POST', path: '/pair', upgrade: false }).kind).toBe('requires');
    expect(requiredPermissions({ method: 'GET', path: '/pair', upgrade: true })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
  });

  it('a device cannot outlive the token that pairs it', () => {
    const now = Date.now();
    const creator = { permissions: ['read'] as Permission[], expiresAt: iso(now + 10 * DAY) };
    expect(pairingGrantDecision(creator, { permissions: ['read'], expiresAt: iso(now + 10 * DAY) }).ok).toBe(true);
    expect(pairingGrantDecision(creator, { permissions: ['read'], expiresAt: iso(now + DAY) }).ok).toBe(true);
    expect(pairingGrantDecision(creator, { permissions: ['read'], expiresAt: iso(now + 10 * DAY + 1) })).toMatchObject({
      ok: false,
      code: 'expiry_exceeds_token',
    });
    expect(pairingGrantDecision(creator, { permissions: ['read'], expiresAt: null })).toMatchObject({ ok: false, code: 'expiry_exceeds_token' });
    // A token that never expires may pair a device that never expires.
    expect(pairingGrantDecision({ permissions: ['read'], expiresAt: null }, { permissions: ['read'], expiresAt: null }).ok).toBe(true);
  });

  it('a scoped token pairs only devices scoped inside its own scopes', () => {
    const creator = { permissions: ['read', 'write'] as Permission[], expiresAt: null, scopes: ['/srv/app', '/home/u/notes'] };
    const grant = (scopes?: string[]) => pairingGrantDecision(creator, { permissions: ['read'], expiresAt: null, scopes });
    expect(grant(undefined)).toMatchObject({ ok: false, code: 'scope_required' });
    expect(grant(['/srv/app']).ok).toBe(true);
    expect(grant(['/srv/app/web', '/home/u/notes']).ok).toBe(true);
    expect(grant(['/srv'])).toMatchObject({ ok: false, code: 'scope_outside' });
    expect(grant(['/srv/application'])).toMatchObject({ ok: false, code: 'scope_outside' });
    expect(grant(['/srv/app', '/etc'])).toMatchObject({ ok: false, code: 'scope_outside' });
    expect(grant(['/'])).toMatchObject({ ok: false, code: 'scope_outside' });
    // An unscoped token may pair scoped and unscoped devices.
    expect(pairingGrantDecision({ permissions: ['read'], expiresAt: null }, { permissions: ['read'], expiresAt: null, scopes: ['/x'] }).ok).toBe(true);
  });

  it('scopeWithin compares whole path segments', () => {
    expect(scopeWithin('/a/b', '/a/b')).toBe(true);
    expect(scopeWithin('/a/b/c', '/a/b')).toBe(true);
    expect(scopeWithin('/a/bc', '/a/b')).toBe(false);
    expect(scopeWithin('/a', '/a/b')).toBe(false);
    expect(scopeWithin('/anything', '/')).toBe(true);
    expect(scopeWithin('/a/b/c', '/a/b/')).toBe(true);
  });

  it('a share token pairs nothing', () => {
    expect(pairingGrantDecision({ permissions: ['read'], expiresAt: null, kind: 'share' }, { permissions: ['read'], expiresAt: null })).toMatchObject({
      ok: false,
      code: 'share_token',
    });
  });

  it('a pairing code is managed by its creator alone', () => {
    expect(mayManagePairing('tok_aaaaaaaaaa', 'tok_aaaaaaaaaa')).toBe(true);
    expect(mayManagePairing('tok_bbbbbbbbbb', 'tok_aaaaaaaaaa')).toBe(false);
    expect(mayManagePairing(null, 'tok_aaaaaaaaaa')).toBe(false);
  });
});

describe('pairingScopeRefusal: asked-for scopes must lie, as written, where the creator reaches', () => {
  const creator = (scopes?: string[]) => ({ permissions: ['read', 'write'] as Permission[], expiresAt: null, ...(scopes ? { scopes } : {}) });
  it('an unscoped creator: inside the project only', () => {
    expect(pairingScopeRefusal(creator(), ['/p', '/p/a/b'], '/p')).toEqual({ ok: true });
    for (const bad of [['/'], ['/etc'], ['/pp'], ['/p/../etc'], ['/p/./a'], ['/p//a'], ['/p/a', '/q']]) {
      expect(pairingScopeRefusal(creator(), bad, '/p'), bad.join()).toMatchObject({ ok: false, code: 'scope_outside' });
    }
  });
  it('a scoped creator: inside its scopes, whatever the project', () => {
    expect(pairingScopeRefusal(creator(['/p/a', '/x']), ['/p/a/b', '/x'], '/p')).toEqual({ ok: true });
    expect(pairingScopeRefusal(creator(['/p/a']), ['/p/b'], '/p')).toMatchObject({ ok: false, code: 'scope_outside' });
    expect(pairingScopeRefusal(creator(['/p/a']), ['/p'], '/p')).toMatchObject({ ok: false, code: 'scope_outside' });
  });
});

describe('device names from the User-Agent', () => {
  const cases: [string, string][] = [
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Chrome-on-Android'],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Safari-on-iPhone',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1',
      'Chrome-on-iPhone',
    ],
    ['Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Safari-on-iPad'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0', 'Edge-on-Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0', 'Firefox-on-macOS'],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
      'Samsung-Internet-on-Android',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36', 'Chrome-on-Linux'],
    ['curl/8.5.0', 'curl'],
    ['', 'device'],
    ['\u001b[31mevil\u202e name; rm -rf / Linux', 'browser-on-Linux'],
  ];
  for (const [ua, name] of cases) it(`${name}`, () => expect(deviceNameFromUserAgent(ua)).toBe(name));

  it('always a valid token name, whatever the header holds', () => {
    for (const ua of [undefined, null, 'x'.repeat(100_000), '\0\n\r', ...cases.map(([u]) => u)]) expect(deviceNameFromUserAgent(ua)).toMatch(NAME_PATTERN);
  });
});
