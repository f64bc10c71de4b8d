// A long-lived token in a URL is refused (400) on every route, public ones included, whatever other
// credential the request carries: URLs end up in logs, history and Referer headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { tokenInQuery } from '../../src/auth/credential-headers.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let token: string;
beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars() });
  token = (await s.token()).token;
});
afterAll(() => s.close());

describe('token in a URL', () => {
  const shapes = (t: string) => [
    `token=${t}`,
    `access_token=${t}`,
    `Token=x`,
    `ACCESS_TOKEN=`,
    `q=${t}`,
    `${t}=1`,
    `q=${encodeURIComponent(t)}`,
    `q=%74ether_${t.slice(7)}`,
    `a=1&b=prefix${t}suffix`,
  ];

  it('the pure check finds each shape and lets ordinary queries through', () => {
    for (const q of shapes(token)) expect(tokenInQuery(`http://h/x?${q}`), q).toBe(true);
    for (const q of ['path=.', 'pattern=tether', 'pattern=tether_short', 'ticket=tkt_abc', 'tokens=3', ''])
      expect(tokenInQuery(`http://h/x?${q}`), q).toBe(false);
    expect(tokenInQuery(`http://h/x#token=${token}`)).toBe(false); // a fragment never reaches a server
  });

  it('is 400 token_in_url with a valid header, on authenticated and public routes', async () => {
    for (const path of ['/auth/whoami', '/config', '/file', '/pty', '/session', '/health', '/', '/ui/app.js', '/doc', '/nowhere']) {
      for (const q of shapes(token)) {
        const r = await s.fetch(`${path}?${q}`, { token });
        expect(r.status, `${path}?${q}`).toBe(400);
        expect((await r.json()).error.code).toBe('token_in_url');
      }
    }
  });

  it('is 400 for writes and for the web login too, and nothing reaches a handler', async () => {
    const login = await s.fetch(`/auth/session?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(login.status).toBe(400);
    expect(login.headers.get('set-cookie')).toBeNull();
    const before = (await (await s.fetch('/session', { token })).json()).length;
    const create = await s.fetch(`/session?access_token=${token}`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(create.status).toBe(400);
    expect((await (await s.fetch('/session', { token })).json()).length).toBe(before);
  });

  it('without the query the same requests succeed', async () => {
    expect((await s.fetch('/auth/whoami', { token })).status).toBe(200);
    expect((await s.fetch('/health')).status).toBe(200);
  });
});
