// Auth on one keep-alive connection: the guard memoises the token a connection last proved
// (src/auth/verify-memo.ts). Whatever that connection sends next (another token, a near miss, a
// deleted or expired token) must get the answer a fresh connection would.
import http from 'node:http';
import net from 'node:net';
import type { Context } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { TokenIndex } from '../../src/auth/verify.js';
import { rawAuthorization } from '../../src/server/server.js';
import { missingPermissions, requiredPermissions } from '../../src/auth/policy.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
let agent: http.Agent;
beforeAll(async () => {
  s = await startTestServer();
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
});
afterAll(async () => {
  agent.destroy();
  await s.close();
});

interface Answer {
  status: number;
  body: { id?: string; error?: { code: string } };
  reused: boolean;
}

/** GET /auth/whoami over the one pooled connection. */
function whoami(authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${s.url}/auth/whoami`, { agent, headers: authorization ? { authorization } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Answer['body'], reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === 'a' ? 'b' : 'a') + t.slice(i + 1);

describe('one keep-alive connection', () => {
  it('switching tokens, near misses, deletion and expiry each get the answer a new connection would', async () => {
    const a = await s.token(['read']);
    const b = await s.token(['read']);
    expect(await whoami(`Bearer ${a.token}`)).toMatchObject({ status: 200, body: { id: a.id } });
    // From here on, every request must ride the same socket, or the test proves nothing.
    expect(await whoami(`Bearer ${b.token}`)).toMatchObject({ status: 200, body: { id: b.id }, reused: true });
    expect(await whoami(`Bearer ${a.token}`)).toMatchObject({ status: 200, body: { id: a.id }, reused: true });
    for (const i of [7, 20, a.token.length - 1]) {
      expect(await whoami(`Bearer ${flip(a.token, i)}`)).toMatchObject({ status: 401, reused: true });
    }
    // Basic carries the same token: still the same answer.
    const basic = `Basic ${Buffer.from(`x:${a.token}`).toString('base64')}`;
    expect(await whoami(basic)).toMatchObject({ status: 200, body: { id: a.id }, reused: true });
    expect(await whoami()).toMatchObject({ status: 401, body: { error: { code: 'missing_token' } }, reused: true });
    expect(await whoami(`Bearer ${a.token}`)).toMatchObject({ status: 200, reused: true });

    await deleteTokens([a.id], s.env.tokenFile);
    expect(await whoami(`Bearer ${a.token}`)).toMatchObject({ status: 401, body: { error: { code: 'unknown_token' } }, reused: true });
    expect(await whoami(`Bearer ${b.token}`)).toMatchObject({ status: 200, body: { id: b.id }, reused: true });
  });

  it('a token that expires while its connection stays open is refused on that connection', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const c = await s.token(['read'], { expiresAt });
    expect(await whoami(`Bearer ${c.token}`)).toMatchObject({ status: 200, body: { id: c.id } });
    await waitFor(() => Date.now() > Date.parse(expiresAt) + 5, { what: 'the expiry to pass', timeout: 5000, interval: 20 });
    expect(await whoami(`Bearer ${c.token}`)).toMatchObject({ status: 401, body: { error: { code: 'expired_token' } }, reused: true });
  });
});

describe('in-process requests (RunningServer.fetch, the bench)', () => {
  it('with a connection stand-in take the memo path on repeats; without one, every request is verified', async () => {
    const a = await s.token(['read']);
    const spy = vi.spyOn(TokenIndex.prototype, 'verify');
    try {
      const ask = async (connection?: object) => {
        const r = await s.server.fetch(
          new Request('http://127.0.0.1:1/auth/whoami', { headers: { host: '127.0.0.1:1', authorization: `Bearer ${a.token}` } }),
          connection,
        );
        expect(r.status).toBe(200);
        await r.text();
      };
      const connection = { remoteAddress: '127.0.0.1', remotePort: 50_000 };
      // The first request verifies (twice when the server's view predates the token: unknown, then
      // again after re-reading the file); the repeats on its connection do not.
      await ask(connection);
      const first = spy.mock.calls.length;
      expect(first).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 3; i++) await ask(connection);
      expect(spy).toHaveBeenCalledTimes(first);
      for (let i = 0; i < 3; i++) await ask();
      expect(spy).toHaveBeenCalledTimes(first + 3);
    } finally {
      spy.mockRestore();
    }
  });
});

/** Sends each exact request in turn on one socket, each after the previous response: their statuses. */
function onOneSocket(port: number, requests: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const statuses: number[] = [];
    let text = '';
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`answered ${statuses.length} of ${requests.length}`))), 5000);
    sock.on('data', (d) => {
      text += d.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split === -1) return;
      const len = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, split))?.[1] ?? 0);
      if (text.length - split - 4 < len) return;
      statuses.push(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)![1]));
      text = text.slice(split + 4 + len);
      if (statuses.length === requests.length) {
        clearTimeout(timer);
        sock.destroy();
        resolve(statuses);
      } else sock.write(requests[statuses.length]);
    });
    sock.on('error', reject);
    sock.write(requests[0]);
  });
}

describe('the memo key is the one Authorization header exactly as sent', () => {
  const get = (port: number, ...headers: string[]) => `GET /auth/whoami HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

  it('after a success, two Authorization headers (even both the good one) are refused, as on a new connection', async () => {
    const a = await s.token(['read']);
    const port = Number(new URL(s.url).port);
    const good = `Authorization: Bearer ${a.token}`;
    expect(await onOneSocket(port, [get(port, good), get(port, good, good)])).toEqual([200, 401]);
    expect(await onOneSocket(port, [get(port, good, good)])).toEqual([401]);
    // Another spelling of the name is the same header; other whitespace is another key, and the
    // full way (which trims it) answers.
    expect(
      await onOneSocket(port, [
        get(port, good),
        get(port, `AUTHORIZATION: Bearer ${a.token}`),
        get(port, `authorization: Bearer ${a.token}  `),
        get(port, good),
      ]),
    ).toEqual([200, 200, 200, 200]);
    expect(await onOneSocket(port, [get(port, good), get(port, `Authorization: Bearer ${a.token}`, `Authorization: Basic x`)])).toEqual([200, 401]);
  });

  it('rawAuthorization reads one header, any case, and nothing from several or from an in-process request', () => {
    const ctx = (rawHeaders?: string[]) => ({ env: rawHeaders && { incoming: { rawHeaders } } }) as unknown as Context;
    expect(rawAuthorization(ctx(['Host', 'x', 'AuThOrIzAtIoN', 'Bearer t']))).toBe('Bearer t');
    expect(rawAuthorization(ctx(['authorization', 'Bearer t', 'Authorization', 'Bearer t']))).toBeUndefined();
    expect(rawAuthorization(ctx(['Host', 'x']))).toBeUndefined();
    expect(rawAuthorization(ctx(['authorizations', 'Bearer t', 'x-authorization', 'Bearer t']))).toBeUndefined();
    expect(rawAuthorization(ctx())).toBeUndefined();
  });
});

describe('escalation on a connection the memo knows (DESIGN 3a)', () => {
  /** A request on the one pooled connection: status, error code, and whether the socket was reused. */
  function ask(method: string, path: string, authorization: string): Promise<{ status: number; code?: string; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined;
      const headers = { authorization, ...(body ? { 'content-type': 'application/json' } : {}) };
      const req = http.request(`${s.url}${path}`, { method, agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          resolve({ status: res.statusCode!, code, reused: req.reusedSocket });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('a read and a read+write token, their header proved on the connection, still get 403 on every route needing more', async () => {
    let checked = 0;
    for (const permissions of [['read'], ['read', 'write']] as const) {
      const t = await s.token([...permissions]);
      const header = `Bearer ${t.token}`;
      expect(await ask('GET', '/auth/whoami', header)).toMatchObject({ status: 200 });
      for (const r of s.server.routes) {
        const path = r.path.replace(/:[A-Za-z]+/g, 'x');
        const decision = requiredPermissions({ method: r.method, path, upgrade: false });
        if (decision.kind !== 'requires' || missingPermissions(decision.permissions, [...permissions]).length === 0) continue;
        const got = await ask(r.method, path, header);
        expect(got, `${permissions.join('+')} ${r.method} ${path}`).toMatchObject({ status: 403, code: 'insufficient_permissions', reused: true });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
