// requiredPermissions remembers its answers; the cached answer must always be the uncached one,
// callers must not be able to change it, and distinct paths must not grow memory.
import { describe, expect, it } from 'vitest';
import { cachedDecisionCount, decide, requiredPermissions, ROUTE_RULES } from '../../src/auth/policy.js';

const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'CONNECT', 'get', '1GET', 'GET '];

describe('policy decision cache', () => {
  it('answers exactly as the uncached decision, asked twice, for every route and variant', () => {
    const paths = new Set<string>(['/', '/health', '/ui/app.js', '/PTY', '/pty/x/connect', '/mcp', '/nope', '/Auth/whoami']);
    for (const r of ROUTE_RULES) {
      const p = r.path.replace(/:id/g, 'abc').replace(/\*$/, 'x.js');
      paths.add(p);
      paths.add(p.toUpperCase());
      paths.add(p + '/extra');
    }
    for (const path of paths)
      for (const method of METHODS)
        for (const upgrade of [false, true]) {
          const want = decide({ method, path, upgrade });
          expect(requiredPermissions({ method, path, upgrade }), `${method} ${path} ${upgrade}`).toEqual(want);
          expect(requiredPermissions({ method, path, upgrade }), `${method} ${path} ${upgrade} (cached)`).toEqual(want);
        }
  });

  it('an upgrade and a plain request with a look-alike method never share an entry', () => {
    const plain = requiredPermissions({ method: '1GET', path: '/auth/whoami', upgrade: false });
    const upgrade = requiredPermissions({ method: 'GET', path: '/auth/whoami', upgrade: true });
    expect(plain).toEqual(decide({ method: '1GET', path: '/auth/whoami', upgrade: false }));
    expect(upgrade).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
  });

  it('hands out frozen answers: a caller cannot weaken the next request', () => {
    const d = requiredPermissions({ method: 'GET', path: '/pty', upgrade: false });
    expect(d.kind).toBe('requires');
    if (d.kind !== 'requires') return;
    expect(() => d.permissions.pop()).toThrow(TypeError);
    expect(requiredPermissions({ method: 'GET', path: '/pty', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    const n = requiredPermissions({ method: 'TRACE', path: '/pty', upgrade: false });
    expect(n.kind).toBe('method_not_allowed');
    if (n.kind !== 'method_not_allowed') return;
    expect(() => n.allowed.push('TRACE')).toThrow(TypeError);
  });

  it('stays bounded under many distinct paths, and long paths are decided uncached', () => {
    for (let i = 0; i < 5000; i++) requiredPermissions({ method: 'GET', path: `/file/x${i}`, upgrade: false });
    expect(cachedDecisionCount()).toBeLessThanOrEqual(1024);
    const long = '/pty/' + 'a'.repeat(300);
    const before = cachedDecisionCount();
    expect(requiredPermissions({ method: 'GET', path: long, upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(cachedDecisionCount()).toBe(before);
  });
});

describe('missingPermissions', () => {
  it('lists what is required and not granted, in the required order, for every combination', async () => {
    const { missingPermissions } = await import('../../src/auth/policy.js');
    const all = ['read', 'write', 'execute'] as const;
    const subsets = [[], ['read'], ['write'], ['execute'], ['read', 'write'], ['read', 'execute'], ['write', 'execute'], [...all]] as const;
    for (const required of subsets)
      for (const granted of subsets) {
        const got = missingPermissions(Object.freeze([...required]), [...granted]);
        expect(got).toEqual(required.filter((p) => !(granted as readonly string[]).includes(p)));
        expect(Object.isFrozen(got)).toBe(false);
      }
  });
});
