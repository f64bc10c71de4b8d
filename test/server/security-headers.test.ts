import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CSP, HTML_CSP, SecureServerResponse } from '../../src/server/security-headers.js';

// Each path answers the way a route might; the server's response class must add the same headers
// the browser-safety middleware adds when the app runs without Node.
const routes: Record<string, (res: http.ServerResponse) => void> = {
  '/plain': (res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'),
  '/html': (res) => res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8' }).end('<p>'),
  '/html-set': (res) => {
    res.setHeader('Content-Type', 'text/html');
    res.writeHead(200).end('<p>');
  },
  '/override': (res) =>
    res
      .writeHead(200, 'Fine', {
        'X-Frame-Options': 'SAMEORIGIN',
        'Content-Security-Policy': 'default-src *',
        'Cache-Control': 'max-age=60',
        'content-type': 'text/plain',
      })
      .end('x'),
  '/set-forced': (res) => {
    res.setHeader('Referrer-Policy', 'unsafe-url');
    res.setHeader('cache-control', 'private');
    res.writeHead(204).end();
  },
  '/raw': (res) => res.writeHead(200, ['content-type', 'text/html', 'x-frame-options', 'ALLOW', 'set-cookie', 'a=1', 'set-cookie', 'b=2']).end(),
  '/none': (res) => res.writeHead(404).end(),
};

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer({ ServerResponse: SecureServerResponse as typeof http.ServerResponse }, (req, res) => routes[req.url!](res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function headersOf(path: string) {
  const res = await fetch(base + path);
  await res.arrayBuffer();
  return res;
}

describe('SecureServerResponse', () => {
  it('adds the security headers and no-store to a JSON response', async () => {
    const r = await headersOf('/plain');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toBe(API_CSP);
    expect(r.headers.get('cache-control')).toBe('no-store');
  });
  it('gives HTML the HTML policy, whether the type came with writeHead or setHeader', async () => {
    expect((await headersOf('/html')).headers.get('content-security-policy')).toBe(HTML_CSP);
    expect((await headersOf('/html-set')).headers.get('content-security-policy')).toBe(HTML_CSP);
  });
  it('the four fixed headers win over a route, whatever their case; a route keeps its own cache-control', async () => {
    const r = await headersOf('/override');
    expect(r.statusText).toBe('Fine');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toBe(API_CSP);
    expect(r.headers.get('cache-control')).toBe('max-age=60');
    const s = await headersOf('/set-forced');
    expect(s.headers.get('referrer-policy')).toBe('no-referrer');
    expect(s.headers.get('cache-control')).toBe('private');
  });
  it('handles raw header pairs, keeping repeated ones', async () => {
    const r = await headersOf('/raw');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toBe(HTML_CSP);
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });
  it('covers responses with no headers at all', async () => {
    const r = await headersOf('/none');
    expect(r.status).toBe(404);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('cache-control')).toBe('no-store');
  });
});
