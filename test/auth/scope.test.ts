// The place decision (src/auth/scope.ts): pure functions on real paths and the route table.
import { describe, expect, it } from 'vitest';
import { ROUTE_RULES, PUBLIC_ROUTES } from '../../src/auth/policy.js';
import {
  PLACELESS_EVENTS,
  SCOPE_ROUTES,
  defaultDirectories,
  eventInScope,
  inScope,
  leadsToScope,
  placeFor,
  scopeReach,
  scopeRefusal,
  scopesMeetProject,
} from '../../src/auth/scope.js';

describe('inScope', () => {
  const scopes = ['/p/app'];
  it('holds for the scope itself and everything below it', () => {
    expect(inScope(scopes, '/p/app')).toBe(true);
    expect(inScope(scopes, '/p/app/a.txt')).toBe(true);
    expect(inScope(scopes, '/p/app/deep/er/x')).toBe(true);
  });

  it('never for a sibling whose name has the scope as a prefix, a parent, or elsewhere', () => {
    for (const p of ['/p/app2', '/p/app2/x', '/p/app.bak', '/p/ap', '/p', '/', '/p/other/app', '/q/p/app']) {
      expect(inScope(scopes, p), p).toBe(false);
    }
  });

  it('is exact: case and Unicode variants of a scope are other directories, never matched', () => {
    expect(inScope(['/p/app'], '/p/App/x')).toBe(false);
    expect(inScope(['/p/app'], '/p/APP')).toBe(false);
    // NFC "café" scope, NFD spelling asked for (and the reverse).
    expect(inScope(['/p/caf\u00e9'], '/p/cafe\u0301/x')).toBe(false);
    expect(inScope(['/p/cafe\u0301'], '/p/caf\u00e9')).toBe(false);
  });

  it('any of several scopes; nested scopes change nothing; null is unscoped', () => {
    expect(inScope(['/p/app', '/p/lib'], '/p/lib/x')).toBe(true);
    expect(inScope(['/p/app', '/p/app/sub'], '/p/app/x')).toBe(true);
    expect(inScope(['/p/app', '/p/lib'], '/p/secret')).toBe(false);
    expect(inScope(null, '/anything')).toBe(true);
    expect(inScope([], '/p/app')).toBe(false);
  });

  it('a scope written with a trailing slash still compares by component; "/" contains everything', () => {
    expect(inScope(['/p/app/'], '/p/app/x')).toBe(true);
    expect(inScope(['/p/app/'], '/p/app2')).toBe(false);
    expect(inScope(['/'], '/etc/passwd')).toBe(true);
  });

  it('a lexical ".." never matches (callers pass real paths; one with ".." is refused, not normalized)', () => {
    expect(inScope(['/p/app'], '/p/app/../secret')).toBe(false);
    expect(inScope(['/p/app'], '/p/app/./x')).toBe(false);
    expect(inScope(['/p/app'], '/p/app//x')).toBe(false);
    expect(inScope(['/p/app'], 'p/app/x')).toBe(false);
    // A hand-edited scope with ".." contains nothing, and leads nowhere.
    expect(inScope(['/p/app/../secret'], '/p/secret/x')).toBe(false);
    expect(leadsToScope(['/p/app/../secret'], '/p/app')).toBe(false);
    // A name that merely starts with dots is an ordinary name.
    expect(inScope(['/p/app'], '/p/app/..hidden')).toBe(true);
  });
});

describe('leadsToScope and scopesMeetProject', () => {
  it('the ancestors of a scope lead to it; siblings and their children do not', () => {
    const scopes = ['/p/app/sub'];
    for (const p of ['/', '/p', '/p/app', '/p/app/sub']) expect(leadsToScope(scopes, p), p).toBe(true);
    for (const p of ['/p/app2', '/p/ap', '/p/app/sub2', '/p/app/other', '/p/app/sub/x']) expect(leadsToScope(scopes, p), p).toBe(false);
  });

  it('the project meets a scope inside it, or a scope around it; not one beside it', () => {
    expect(scopesMeetProject(['/p/app'], '/p')).toBe(true);
    expect(scopesMeetProject(['/home/u'], '/home/u/proj')).toBe(true);
    expect(scopesMeetProject(['/p/app'], '/p/app')).toBe(true);
    expect(scopesMeetProject(['/p2'], '/p')).toBe(false);
    expect(scopesMeetProject(['/p-other'], '/p')).toBe(false);
    expect(scopesMeetProject(['/tmp/x', '/p/lib'], '/p')).toBe(true);
  });

  it('the default directory: the project inside a scope, else each scope inside the project, in order', () => {
    expect(defaultDirectories(['/home/u'], '/home/u/proj')).toEqual(['/home/u/proj']);
    expect(defaultDirectories(['/tmp/x', '/p/lib', '/p/app'], '/p')).toEqual(['/p/lib', '/p/app']);
    expect(defaultDirectories(['/tmp/x'], '/p')).toEqual([]);
  });

  it('placeFor: undefined for an unscoped token, else a Place over a copy of the scopes', () => {
    expect(placeFor(null)).toBeUndefined();
    expect(placeFor(undefined)).toBeUndefined();
    const scopes = ['/p/app'];
    const place = placeFor(scopes)!;
    scopes.push('/p/secret');
    expect(place.scopes).toEqual(['/p/app']);
    expect(place.contains('/p/secret/x')).toBe(false);
    expect(place.leadsTo('/p')).toBe(true);
    // The Place judges like the functions: a hand-edited scope with ".." contains and leads to nothing.
    const odd = placeFor(['/p/app/../secret', '/p/lib'])!;
    expect(odd.contains('/p/secret/x')).toBe(false);
    expect(odd.leadsTo('/p/app')).toBe(false);
    expect(odd.contains('/p/lib/x')).toBe(true);
    expect(odd.contains('/p/lib/../secret')).toBe(false);
  });
});

describe('which routes a scoped token may use', () => {
  const nonPublic = ROUTE_RULES.filter(
    (r) => !PUBLIC_ROUTES.some((p) => typeof p.path === 'string' && p.path === r.path && p.methods.includes(r.method)),
  ).filter((r) => !r.path.startsWith('/ui'));

  it('every route of the policy table is either given a reach or deliberately refused (with a reason)', () => {
    const refused = nonPublic.filter((r) => scopeReach(r.method, r.path) === undefined).map((r) => `${r.method} ${r.path}`);
    expect(refused.sort()).toEqual(['GET /audit', 'PATCH /config', 'POST /pty/:id/share', 'POST /session/:id/share']);
    // Every named entry is a real route: a typo would silently leave a route refused.
    const known = new Set(ROUTE_RULES.map((r) => `${r.method} ${r.path}`));
    for (const key of SCOPE_ROUTES.keys()) expect(known, key).toContain(key);
  });

  it('every file route (any method, present or added later) is confined by the file confinement', () => {
    for (const [m, p] of [
      ['GET', '/file'],
      ['GET', '/file/content'],
      ['PUT', '/file/content'],
      ['DELETE', '/file'],
      ['GET', '/find'],
      ['GET', '/find/file'],
    ] as const) {
      expect(scopeReach(m, p), `${m} ${p}`).toBe('paths');
    }
    expect(scopeReach('HEAD', '/file')).toBe('paths');
  });

  it('a route added later under /pty or /session, or anywhere else, is refused until it is given a rule', () => {
    expect(scopeReach('POST', '/pty/:id/share')).toBeUndefined();
    expect(scopeReach('POST', '/session/:id/share')).toBeUndefined();
    expect(scopeReach('GET', '/admin')).toBeUndefined();
  });

  const ask = (method: string, path: string, scopes = ['/p/app'], projectDir = '/p') =>
    scopeRefusal({ method, path, scopes, projectDir, tokenName: 'colleague' });

  it('allows the confined routes where the project meets a scope', () => {
    for (const [m, p] of [
      ['GET', '/file'],
      ['GET', '/pty/pty_1/connect'],
      ['POST', '/session/ses_1/message'],
      ['GET', '/event'],
      ['GET', '/config'],
      ['GET', '/auth/whoami'],
    ]) {
      expect(ask(m, p), `${m} ${p}`).toBeNull();
    }
  });

  it('refuses PATCH /config to every scoped token, saying why', () => {
    const r = ask('PATCH', '/config');
    expect(r?.code).toBe('outside_scope');
    expect(r?.message).toMatch(/server-wide/);
    expect(r?.message).toContain('/p/app');
  });

  it('a project outside every scope leaves only GET /auth/whoami', () => {
    expect(ask('GET', '/auth/whoami', ['/elsewhere'])).toBeNull();
    expect(ask('HEAD', '/auth/whoami', ['/elsewhere'])).toBeNull();
    for (const [m, p] of [
      ['GET', '/file'],
      ['GET', '/doc'],
      ['GET', '/config'],
      ['GET', '/event'],
      ['GET', '/pty'],
      ['POST', '/session'],
      ['GET', '/nothing-here'],
    ]) {
      const r = ask(m, p, ['/elsewhere']);
      expect(r?.code, `${m} ${p}`).toBe('outside_scope');
      expect(r?.message).toMatch(/project lies outside all of them.*GET \/auth\/whoami/);
    }
    // The sibling-prefix trap at the project level too.
    expect(ask('GET', '/file', ['/p2'])?.code).toBe('outside_scope');
  });
});

describe('eventInScope', () => {
  const scopes = ['/p/app'];
  it('an event with a place: only inside a scope', () => {
    expect(eventInScope(scopes, { type: 'pty.created', place: '/p/app/sub' })).toBe(true);
    expect(eventInScope(scopes, { type: 'pty.created', place: '/p/app2' })).toBe(false);
    expect(eventInScope(scopes, { type: 'session.deleted', place: '/p' })).toBe(false);
  });

  it('an event without a place: only the ones known to concern no place; unscoped sees all', () => {
    expect([...PLACELESS_EVENTS]).toEqual(['config.updated']);
    expect(eventInScope(scopes, { type: 'config.updated' })).toBe(true);
    for (const type of ['pty.deleted', 'session.deleted', 'message.part', 'file.written', 'whatever.new']) {
      expect(eventInScope(scopes, { type }), type).toBe(false);
    }
    expect(eventInScope(null, { type: 'file.written' })).toBe(true);
  });
});
