// The permission matrix against a real listening server: (method, path variant, token permissions)
// -> status, and proof that no request reaches a handler it is not entitled to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Permission } from '../../src/auth/permissions.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { probeRegistrar, type ProbeHit } from '../helpers/probe.js';

const hits: ProbeHit[] = [];
let s: TestServer;
const tokens = new Map<string, string>();
const SETS: Record<string, Permission[]> = {
  r: ['read'],
  w: ['write'],
  x: ['execute'],
  rw: ['read', 'write'],
  rx: ['read', 'execute'],
  wx: ['write', 'execute'],
  rwx: ['read', 'write', 'execute'],
};

beforeAll(async () => {
  s = await startTestServer({ registrars: [probeRegistrar(hits)] });
  for (const [k, perms] of Object.entries(SETS)) tokens.set(k, (await s.token(perms)).token);
});
afterAll(() => s.close());

// [raw path as sent, needs execute, routed (true), no such route (false), or refused by the HTTP layer (400)]
const PATHS: [string, boolean, boolean | 400][] = [
  ['/probe', false, true],
  ['/probe/abc', false, true],
  ['/pty', true, true],
  ['//pty', true, true],
  ['/pty/', true, true],
  ['/%70ty', true, true],
  ['/%70%74%79/abc', true, true],
  ['/PTY', true, false],
  ['/Pty/abc', true, false],
  ['/file/../session', true, true],
  ['/./session', true, true],
  ['/probe/../pty', true, true],
  ['/probe/%2e%2e/pty', true, true],
  ['/session%2Fabc', true, true],
  ['/session%2fabc%2fmessage', true, true],
  ['/session/abc/message', true, true],
  ['/message', true, true],
  ['/\\pty', true, 400], // Node's HTTP parser refuses a raw backslash before tether sees it
  ['///session//abc//', true, true],
];
const METHODS: [string, Permission][] = [
  ['GET', 'read'],
  ['HEAD', 'read'],
  ['POST', 'write'],
  ['PUT', 'write'],
  ['PATCH', 'write'],
  ['DELETE', 'write'],
];

/** Sends the raw path exactly (fetch would normalise it). */
async function raw(method: string, path: string, token?: string): Promise<number> {
  return (await rawFull(method, path, token)).status;
}

async function rawFull(method: string, path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const http = await import('node:http');
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('permission matrix', () => {
  it('every (method, path variant, permission set) gets the expected status', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const [path, exec, routed] of PATHS) {
      for (const [method, base] of METHODS) {
        const needed: Permission[] = exec ? [base, 'execute'] : [base];
        const cases: [string, string | undefined, number][] = [['none', undefined, routed === 400 ? 400 : 401]];
        for (const [k, perms] of Object.entries(SETS)) {
          const ok = needed.every((p) => perms.includes(p));
          cases.push([k, tokens.get(k), routed === 400 ? 400 : ok ? (routed ? 200 : 404) : 403]);
        }
        for (const [k, token, want] of cases) {
          const before = hits.length;
          const got = await raw(method, path, token);
          count++;
          if (got !== want) failures.push(`${method} ${path} [${k}] -> ${got}, want ${want}`);
          if (want !== 200 && hits.length !== before) failures.push(`${method} ${path} [${k}] reached a handler`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(count).toBe(PATHS.length * METHODS.length * 8);
  });

  it('handlers saw only canonical paths, and only tokens holding what they needed', () => {
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) {
      expect(h.path).toMatch(/^\/(probe|pty|session|message)(\/[a-z]+)*$/);
      if (/^\/(pty|session|message)/.test(h.path)) expect(h.permissions).toContain('execute');
      expect(h.permissions).toContain(h.method === 'GET' || h.method === 'HEAD' ? 'read' : 'write');
    }
  });

  it('methods outside the table get 405 with Allow, before any credential is needed', async () => {
    for (const m of ['TRACE', 'PROPFIND', 'MKCOL', 'PURGE']) {
      const status = await raw(m, '/probe', tokens.get('rwx'));
      expect(status, m).toBe(405);
      expect(await raw(m, '/pty')).toBe(405);
    }
    const r = await s.fetch('/probe', { method: 'PROPFIND' });
    expect(r.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE');
    expect((await r.json()).error.code).toBe('method_not_allowed');
  });

  it('X-HTTP-Method-Override is ignored: the real method decides', async () => {
    const r = await s.fetch('/probe', { method: 'GET', token: tokens.get('r'), headers: { 'x-http-method-override': 'DELETE' } });
    expect(r.status).toBe(200);
    expect(hits.at(-1)!.method).toBe('GET');
    const w = await s.fetch('/probe', { method: 'POST', token: tokens.get('r'), headers: { 'x-http-method-override': 'GET' } });
    expect(w.status).toBe(403);
  });

  it('a WebSocket upgrade header demands execute even on a read route', async () => {
    // Not a full handshake (no key): only the Upgrade header, which must be enough to demand execute.
    const r = await rawFull('GET', '/probe', tokens.get('rw'), { upgrade: 'websocket' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).error.message).toMatch(/lacks execute/);
    const before = hits.length;
    expect((await rawFull('GET', '/probe', tokens.get('rw'), { upgrade: 'WebSocket, h2c' })).status).toBe(403);
    expect((await rawFull('GET', '/probe', tokens.get('rx'), { upgrade: 'websocket' })).status).toBe(200);
    expect(hits.length).toBe(before + 1);
  });

  it('403 names the missing permissions and how to get them', async () => {
    const r = await s.fetch('/pty', { method: 'POST', token: tokens.get('r') });
    expect(r.status).toBe(403);
    const body = await r.json();
    expect(body.error.code).toBe('insufficient_permissions');
    expect(body.error.message).toMatch(/lacks write and execute permission, needed for POST \/pty/);
    expect(body.error.message).toMatch(/--permissions read,write,execute/);
  });

  it('bad paths are 400 before authentication', async () => {
    expect(await raw('GET', '/pty%00')).toBe(400);
    expect(await raw('GET', '/%E0%A4%A')).toBe(400);
    expect(await raw('GET', '/%C0%AEpty', tokens.get('rwx'))).toBe(400);
  });
});
