// The failure limiter and collapsed failure logs over real sockets from several loopback sources.
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

/** One request from `localAddress` (a fresh connection each time, so the source really varies). */
function from(localAddress: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; retryAfter?: string }>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: s.server.port, path, method: init.method ?? 'GET', localAddress, agent: false, headers: init.headers },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, retryAfter: res.headers['retry-after'] }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('failure limiter over the wire', () => {
  it('300 bad tokens from 127.0.0.2-11 meet 429 after 30: all of loopback is one key', async () => {
    const { token } = await s.token(['read']);
    const statuses: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const r = await from(`127.0.0.${2 + (i % 10)}`, '/auth/whoami', { headers: { authorization: `Bearer ${generateToken()}` } });
      statuses.push(r.status);
    }
    for (const l of s.logs) if (l.event === 'auth.failure') seen.add(String(l.address));
    expect(statuses.slice(0, 30)).toEqual(new Array(30).fill(401));
    expect(statuses.slice(30).every((x) => x === 429)).toBe(true);
    const r = await from('127.0.0.7', '/auth/whoami', { headers: { authorization: `Bearer ${generateToken()}` } });
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(r.body).error.code).toBe('too_many_failures');
    // The web login shares the limiter and the key.
    const login = await from('127.0.0.9', '/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.url },
      body: JSON.stringify({ token: generateToken() }),
    });
    expect(login.status).toBe(429);
    // A valid token from any of them still works.
    expect((await from('127.0.0.4', '/auth/whoami', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    // The log: the first 10 failures individually (from several source addresses), then one summary.
    const individual = s.logs.filter((l) => l.event === 'auth.failure');
    expect(individual).toHaveLength(10);
    expect(seen.size).toBe(10);
    await s.server.close();
    const summaries = s.logs.filter((l) => l.event === 'auth.failure.summary');
    expect(summaries).toEqual([expect.objectContaining({ key: 'loopback', failures: 302, notLoggedIndividually: 292 })]);
  });
});
