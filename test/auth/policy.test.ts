import { describe, expect, it } from 'vitest';
import { canonicalPath, rawPathOf } from '../../src/auth/canonical-path.js';
import { requiredPermissions, missingPermissions } from '../../src/auth/policy.js';
import { credentialFromAuthorization } from '../../src/auth/credential-headers.js';
import { FailureLimiter } from '../../src/auth/limiter.js';

describe('canonicalPath', () => {
  const cases: [string, string][] = [
    ['/pty', '/pty'],
    ['//pty', '/pty'],
    ['/pty/', '/pty'],
    ['/%70ty', '/pty'],
    ['/%2570ty', '/%70ty'], // decoded once only
    ['/file/../session', '/session'],
    ['/./session', '/session'],
    ['/file/%2e%2e/pty', '/pty'],
    ['/file%2F..%2Fpty', '/pty'],
    ['/\\pty', '/pty'],
    ['/../../pty', '/pty'],
    ['/PTY', '/PTY'],
    ['/', '/'],
    ['', '/'],
    ['/session//abc///message/', '/session/abc/message'],
  ];
  for (const [raw, want] of cases) it(`${JSON.stringify(raw)} -> ${want}`, () => expect(canonicalPath(raw)).toEqual({ ok: true, path: want }));

  it('refuses invalid encodings, control characters and huge paths', () => {
    expect(canonicalPath('/%E0%A4%A')).toMatchObject({ ok: false });
    expect(canonicalPath('/%C0%AFpty')).toMatchObject({ ok: false }); // overlong UTF-8
    expect(canonicalPath('/pty%00')).toMatchObject({ ok: false, problem: /control/ });
    expect(canonicalPath('/a\nb')).toMatchObject({ ok: false });
    expect(canonicalPath('/' + 'a'.repeat(9000))).toMatchObject({ ok: false });
  });

  it('rawPathOf strips query and fragment', () => {
    expect(rawPathOf('http://h:1/a/b?x=1#f')).toBe('/a/b');
    expect(rawPathOf('http://h:1/a#f?x')).toBe('/a');
    expect(rawPathOf('http://h:1')).toBe('/');
  });
});

describe('policy', () => {
  const req = (method: string, path: string, upgrade = false) => requiredPermissions({ method, path, upgrade });
  it('methods map to read or write', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(req(m, '/file')).toEqual({ kind: 'requires', permissions: ['read'] });
    // (A path with no route entry: the method rule alone. DELETE /file also needs read, by its entry.)
    for (const m of ['POST', 'PUT', 'PATCH', 'DELETE']) expect(req(m, '/no-route')).toEqual({ kind: 'requires', permissions: ['write'] });
  });
  it('other methods are 405', () => {
    for (const m of ['TRACE', 'CONNECT', 'PROPFIND', 'get', 'FOO', 'constructor', 'valueOf', '__proto__', 'toString'])
      expect(req(m, '/config').kind).toBe('method_not_allowed');
  });
  it('interactive segments add execute, case-insensitively', () => {
    expect(req('GET', '/pty')).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(req('POST', '/session/x/message')).toEqual({ kind: 'requires', permissions: ['write', 'execute'] });
    expect(req('GET', '/message')).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(req('GET', '/PTY')).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(req('GET', '/Session/abc')).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(req('GET', '/ptyx')).toEqual({ kind: 'requires', permissions: ['read'] });
  });
  it('a WebSocket upgrade needs execute on any path, never public', () => {
    expect(req('GET', '/config', true)).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(req('GET', '/health', true)).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
  });
  it('public routes', () => {
    expect(req('GET', '/health').kind).toBe('public');
    expect(req('HEAD', '/health').kind).toBe('public');
    expect(req('POST', '/health').kind).toBe('requires');
    expect(req('POST', '/auth/session').kind).toBe('public');
    expect(req('GET', '/auth/session').kind).toBe('requires');
    expect(req('GET', '/ui/app.js').kind).toBe('public');
    expect(req('GET', '/ui/../pty').kind).toBe('requires');
  });
  it('missingPermissions', () => {
    expect(missingPermissions(['read', 'execute'], ['read', 'write'])).toEqual(['execute']);
    expect(missingPermissions(['write'], ['read', 'write', 'execute'])).toEqual([]);
  });
});

describe('credentials', () => {
  it('Bearer and Basic (any user name)', () => {
    expect(credentialFromAuthorization('Bearer abc')).toEqual({ kind: 'bearer', token: 'abc' });
    expect(credentialFromAuthorization('bearer abc')).toEqual({ kind: 'bearer', token: 'abc' });
    expect(credentialFromAuthorization('Basic ' + Buffer.from('x:tok').toString('base64'))).toEqual({ kind: 'basic', token: 'tok' });
    expect(credentialFromAuthorization('Basic ' + Buffer.from(':a:b').toString('base64'))).toEqual({ kind: 'basic', token: 'a:b' });
    expect(credentialFromAuthorization(undefined)).toEqual({ kind: 'none' });
  });
  for (const bad of [
    'Bearer',
    'Bearer a b',
    'Bearer a, Bearer b',
    'Token abc',
    'abc',
    '',
    'Basic !!!',
    'Basic ' + Buffer.from('nocolon').toString('base64'),
    'Bearer ' + 'a'.repeat(5000),
  ]) {
    it(`invalid: ${JSON.stringify(bad.slice(0, 30))}`, () => expect(credentialFromAuthorization(bad).kind).toBe('invalid'));
  }
});

describe('FailureLimiter', () => {
  it('throttles after the limit within the window, then resets', () => {
    let now = 0;
    const l = new FailureLimiter(3, 60_000, 100, () => now);
    expect([l.fail('a'), l.fail('a'), l.fail('a')]).toEqual([0, 0, 0]);
    expect(l.fail('a')).toBe(60);
    expect(l.fail('b')).toBe(0);
    now = 30_000;
    expect(l.fail('a')).toBe(30);
    now = 60_000;
    expect(l.fail('a')).toBe(0);
  });
  it('memory is bounded', () => {
    const l = new FailureLimiter(3, 60_000, 100, () => 0);
    for (let i = 0; i < 10_000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`);
    expect(l.size).toBe(100);
  });
});
