// Every route the server registers has an explicit entry in the policy's route table, and every entry
// names a real route: a new route (an interactive one above all) cannot silently fall back to the
// method rule alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizePermissions } from '../../src/auth/permissions.js';
import { ROUTE_RULES, requiredPermissions, routeRule } from '../../src/auth/policy.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars() });
});
afterAll(() => s.close());

/** A concrete request path for a router path: `:id` -> a plausible id, `*` -> one segment. */
const concrete = (p: string) => p.replace(/:[A-Za-z]+/g, 'x_0123456789').replace(/\*$/, 'app.js');

describe('route table coverage', () => {
  it('the server registers the routes we expect to check (sanity)', () => {
    expect(s.server.routes.length).toBeGreaterThan(25);
    expect(s.server.routes).toContainEqual({ method: 'PATCH', path: '/config' });
    expect(s.server.routes).toContainEqual({ method: 'GET', path: '/pty/:id/connect' });
  });

  it('every registered route has its own policy entry', () => {
    const missing = s.server.routes.filter((r) => !ROUTE_RULES.some((rule) => rule.method === r.method && rule.path === r.path));
    expect(missing).toEqual([]);
  });

  it('every policy entry names a registered route', () => {
    const stale = ROUTE_RULES.filter((rule) => !s.server.routes.some((r) => r.method === rule.method && r.path === rule.path));
    expect(stale).toEqual([]);
  });

  it("a request to each route finds that route's entry", () => {
    for (const r of s.server.routes) expect(routeRule(r.method, concrete(r.path))?.path, `${r.method} ${r.path}`).toBe(r.path);
  });

  it('each entry states what its route needs in full, and the public ones are exactly the public routes', () => {
    // The table is meant to be read on its own: what a route needs is its entry, nothing hidden in
    // the method or segment rules; and an entry with no needs must be a public route (and back).
    for (const rule of ROUTE_RULES) {
      const d = requiredPermissions({ method: rule.method, path: concrete(rule.path), upgrade: false });
      const label = `${rule.method} ${rule.path}`;
      if (rule.needs.length === 0) expect(d, label).toEqual({ kind: 'public' });
      else expect(d, label).toEqual({ kind: 'requires', permissions: normalizePermissions(rule.needs) });
    }
  });

  it('a table entry cannot weaken the method or segment rules', () => {
    // Hypothetical reads of an interactive path and a write: whatever the table said, the guard adds.
    expect(requiredPermissions({ method: 'GET', path: '/pty/x_0123456789', upgrade: false })).toMatchObject({
      permissions: expect.arrayContaining(['read', 'execute']),
    });
    expect(requiredPermissions({ method: 'DELETE', path: '/file', upgrade: false })).toMatchObject({ permissions: expect.arrayContaining(['write']) });
  });

  it('changing settings needs write + execute; reading them needs read', () => {
    expect(requiredPermissions({ method: 'PATCH', path: '/config', upgrade: false })).toEqual({ kind: 'requires', permissions: ['write', 'execute'] });
    expect(requiredPermissions({ method: 'GET', path: '/config', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read'] });
    expect(requiredPermissions({ method: 'HEAD', path: '/config', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read'] });
  });

  it('reading the audit trail needs read + execute: it shows the commands that ran', () => {
    expect(requiredPermissions({ method: 'GET', path: '/audit', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
    expect(requiredPermissions({ method: 'HEAD', path: '/audit', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
  });

  it('an unknown path falls back to the method and segment rules', () => {
    expect(routeRule('GET', '/nothing/here')).toBeUndefined();
    expect(requiredPermissions({ method: 'DELETE', path: '/nothing', upgrade: false })).toEqual({ kind: 'requires', permissions: ['write'] });
    expect(requiredPermissions({ method: 'GET', path: '/pty/a/b/c', upgrade: false })).toEqual({ kind: 'requires', permissions: ['read', 'execute'] });
  });
});
