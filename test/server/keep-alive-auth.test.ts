// Auth on one keep-alive connection: the guard memoises the token a connection last proved
// (src/auth/verify-memo.ts). Whatever that connection sends next (another token, a near miss, a
// deleted or expired token) must get the answer a fresh connection would.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { TokenIndex } from '../../src/auth/verify.js';
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
      for (let i = 0; i < 3; i++) await ask(connection);
      expect(spy).toHaveBeenCalledTimes(1);
      for (let i = 0; i < 3; i++) await ask();
      expect(spy).toHaveBeenCalledTimes(4);
    } finally {
      spy.mockRestore();
    }
  });
});
