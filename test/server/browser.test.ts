import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let token: string;
beforeAll(async () => {
  s = await startTestServer({ cors: ['https://app.example.com'], allowedHosts: ['tether.internal'] });
  token = (await s.token(['read', 'write'])).token;
});
afterAll(() => s.close());

function req(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(s.url);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: u.port, path, method, headers, setHost: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    r.on('error', reject);
    r.end();
  });
}

const port = () => new URL(s.url).port;

describe('Host allowlist (DNS rebinding)', () => {
  for (const host of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST', 'tether.internal']) {
    it(`accepts Host ${host}`, async () => {
      const r = await req('/health', { host: `${host}:${port()}` });
      expect(r.status).toBe(200);
    });
  }
  for (const host of ['evil.com', 'localhost.evil.com', '127.0.0.1.nip.io', 'attacker', '10.0.0.1', '']) {
    it(`refuses Host ${JSON.stringify(host)} with 403 before auth, naming the flag`, async () => {
      const r = await req('/auth/whoami', { host: host ? `${host}:${port()}` : '', authorization: `Bearer ${token}` });
      expect(r.status).toBe(403);
      const e = JSON.parse(r.body).error;
      expect(e.code).toBe('host_not_allowed');
      if (host) expect(e.message).toMatch(/--allowed-host/);
    });
  }
  it('refuses a request with no Host header at all', async () => {
    // Node's HTTP/1.1 server answers 400 itself (requireHostHeader) before tether runs.
    const r = await req('/health', {});
    expect(r.status).toBe(400);
  });
});

describe('Origin and CORS', () => {
  it('same-origin requests pass', async () => {
    const r = await req('/auth/whoami', { host: `127.0.0.1:${port()}`, origin: `http://127.0.0.1:${port()}`, authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
  for (const origin of ['https://evil.com', 'null', 'http://localhost:1', `https://127.0.0.1:${4096}`, 'https://app.example.com.evil.com']) {
    it(`a request from origin ${origin} is refused even with a valid token`, async () => {
      const r = await req('/auth/whoami', { host: `127.0.0.1:${port()}`, origin, authorization: `Bearer ${token}` });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error.code).toBe('origin_not_allowed');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    });
  }
  it('a --cors origin gets CORS headers, never *', async () => {
    const r = await req('/auth/whoami', { host: `127.0.0.1:${port()}`, origin: 'https://app.example.com', authorization: `Bearer ${token}` });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(r.headers.vary).toMatch(/Origin/);
  });
  it('preflight from a --cors origin is answered without a token', async () => {
    const r = await req(
      '/config',
      {
        host: `127.0.0.1:${port()}`,
        origin: 'https://app.example.com',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'authorization',
      },
      'OPTIONS',
    );
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(r.headers['access-control-allow-headers']).toMatch(/Authorization/);
  });
  it('preflight from any other origin is refused', async () => {
    const r = await req('/config', { host: `127.0.0.1:${port()}`, origin: 'https://evil.com', 'access-control-request-method': 'PATCH' }, 'OPTIONS');
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
  it('a plain OPTIONS (not a preflight) needs a token like any read', async () => {
    const r = await req('/config', { host: `127.0.0.1:${port()}` }, 'OPTIONS');
    expect(r.status).toBe(401);
  });
});

describe('security headers', () => {
  it('JSON responses carry nosniff, no-store and a deny-all CSP', async () => {
    const r = await req('/auth/whoami', { host: `127.0.0.1:${port()}`, authorization: `Bearer ${token}` });
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(r.headers['x-frame-options']).toBe('DENY');
  });
  it('401s and 404s carry them too', async () => {
    for (const path of ['/auth/whoami', '/nope']) {
      const r = await req(path, { host: `127.0.0.1:${port()}`, ...(path === '/nope' ? { authorization: `Bearer ${token}` } : {}) });
      expect([401, 404]).toContain(r.status);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(JSON.parse(r.body).error.code).toBeTypeOf('string');
    }
  });
});

describe('upgrade requests', () => {
  it('a non-WebSocket Upgrade is answered 400 instead of hanging', async () => {
    for (const upgrade of ['h2c', 'Upgrade', 'websocket2', '']) {
      const r = await req('/health', { host: `127.0.0.1:${port()}`, connection: 'Upgrade', upgrade });
      expect(r.status, upgrade).toBe(upgrade === '' ? 200 : 400);
      if (upgrade) expect(JSON.parse(r.body).error.code).toBe('bad_upgrade');
    }
  });
});
