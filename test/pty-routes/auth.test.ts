// Who may reach terminals: execute on every route and on the upgrade, the three WebSocket
// credential forms, and never a token in a URL.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ready, refusedStatus, startPtyServer, type PtyServer } from './helpers.js';
import type { Permission } from '../../src/auth/permissions.js';

let s: PtyServer;
let clock = Date.now();
beforeAll(async () => {
  s = await startPtyServer({ tickets: { now: () => clock } });
});
afterAll(async () => {
  await s?.close();
});

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const url = (id: string) => `${s.wsUrl}/pty/${id}/connect`;

async function ticketFor(id: string, token = s.admin): Promise<{ ticket: string; url: string; expiresAt: string }> {
  const res = await s.fetch(`/pty/${id}/ticket`, { method: 'POST', token });
  expect(res.status).toBe(201);
  return await res.json();
}

describe('permissions', () => {
  const without: Permission[][] = [['read'], ['read', 'write'], ['write']];
  for (const perms of without) {
    it(`a ${perms.join('+')} token gets 403 on every terminal route and on the upgrade`, async () => {
      const { token } = await s.token(perms);
      const pty = await s.createPty();
      const routes: [string, string, unknown?][] = [
        ['GET', '/pty'],
        ['POST', '/pty', {}],
        ['GET', `/pty/${pty.id}`],
        ['PUT', `/pty/${pty.id}`, { cols: 100 }],
        ['DELETE', `/pty/${pty.id}`],
        ['POST', `/pty/${pty.id}/ticket`],
        ['GET', `/pty/${pty.id}/connect`],
      ];
      for (const [method, path, body] of routes) {
        const res = await s.fetch(path, { method, token, ...(body === undefined ? {} : json(body)) });
        expect(res.status, `${method} ${path}`).toBe(403);
        const err = (await res.json()).error;
        expect(err.code).toBe('insufficient_permissions');
        expect(err.message).toMatch(/execute/);
      }
      expect(await refusedStatus(url(pty.id), { token })).toBe(403);
      expect(await refusedStatus(url(pty.id), { protocols: ['tether', `tether.auth.${token}`] })).toBe(403);
      // Nothing happened to the terminal.
      expect((await (await s.fetch(`/pty/${pty.id}`, { token: s.admin })).json()).status).toBe('running');
    });
  }

  it('a read+write+execute token works on every route and the upgrade', async () => {
    const { token } = await s.token(['read', 'write', 'execute']);
    const pty = await s.createPty(undefined, token);
    expect((await s.fetch('/pty', { token })).status).toBe(200);
    expect((await s.fetch(`/pty/${pty.id}`, { token })).status).toBe(200);
    expect((await s.fetch(`/pty/${pty.id}`, { method: 'PUT', token, ...json({ cols: 100 }) })).status).toBe(200);
    expect((await s.fetch(`/pty/${pty.id}/ticket`, { method: 'POST', token })).status).toBe(201);
    const t = await connect(url(pty.id), { token });
    await ready(t);
    t.close();
    expect((await s.fetch(`/pty/${pty.id}`, { method: 'DELETE', token })).status).toBe(204);
  });

  it('refuses an upgrade without credentials (401)', async () => {
    const pty = await s.createPty();
    expect(await refusedStatus(url(pty.id))).toBe(401);
  });
});

describe('Sec-WebSocket-Protocol credential', () => {
  it('accepts "tether, tether.auth.<token>" and echoes back only "tether"', async () => {
    const pty = await s.createPty();
    let echoed: string | string[] | undefined;
    const t = await connect(url(pty.id), { protocols: ['tether', `tether.auth.${s.admin}`] });
    expect(t.ws.protocol).toBe('tether');
    await ready(t);
    t.type('echo via-protocol-$((2+3))\r');
    await t.waitText('via-protocol-5');
    t.close();

    // The raw handshake response: the secret-bearing offer is never echoed.
    const ws = new WebSocket(url(pty.id), ['tether', `tether.auth.${s.admin}`]);
    await new Promise<void>((resolve, reject) => {
      ws.once('upgrade', (res) => (echoed = res.headers['sec-websocket-protocol']));
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    expect(echoed).toBe('tether');
    ws.close();
  });

  it('refuses a bad token, a missing "tether" offer, and two token offers (401)', async () => {
    const pty = await s.createPty();
    expect(await refusedStatus(url(pty.id), { protocols: ['tether', 'tether.auth.tether_notarealtoken'] })).toBe(401);
    expect(await refusedStatus(url(pty.id), { protocols: [`tether.auth.${s.admin}`] })).toBe(401);
    const { token: other } = await s.token();
    expect(await refusedStatus(url(pty.id), { protocols: ['tether', `tether.auth.${s.admin}`, `tether.auth.${other}`] })).toBe(401);
  });
});

describe('tokens in URLs', () => {
  it('refuses ?token= and token-shaped query values with 400, even beside a valid credential', async () => {
    const pty = await s.createPty();
    expect(await refusedStatus(url(pty.id), { query: `?token=${s.admin}` })).toBe(400);
    expect(await refusedStatus(url(pty.id), { query: `?access_token=${s.admin}` })).toBe(400);
    for (const q of [`?token=${s.admin}`, `?x=${s.admin}`]) {
      const res = await fetch(`${s.url}/pty${q}`, { headers: { authorization: `Bearer ${s.admin}` } });
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(/never accepted in a URL/);
    }
  });
});

describe('tickets', () => {
  it('a ticket opens its terminal once; the second use is refused', async () => {
    const pty = await s.createPty();
    const { ticket, url: path, expiresAt } = await ticketFor(pty.id);
    expect(ticket).toMatch(/^tkt_[A-Za-z0-9_-]{43}$/); // 256 random bits
    expect(path).toBe(`/pty/${pty.id}/connect?ticket=${ticket}`);
    expect(Date.parse(expiresAt) - clock).toBe(30_000);
    const t = await connect(`${s.wsUrl}${path}`);
    await ready(t);
    t.type('echo via-ticket-$((4*4))\r');
    await t.waitText('via-ticket-16');
    expect(await refusedStatus(`${s.wsUrl}${path}`)).toBe(401);
    t.close();
  });

  it('a ticket fails after 30 s', async () => {
    const pty = await s.createPty();
    const early = await ticketFor(pty.id);
    const late = await ticketFor(pty.id);
    clock += 29_999;
    (await connect(`${s.wsUrl}${early.url}`)).close();
    clock += 2;
    expect(await refusedStatus(`${s.wsUrl}${late.url}`)).toBe(401);
  });

  it('a ticket for terminal A cannot open terminal B, nor any other request', async () => {
    const a = await s.createPty();
    const b = await s.createPty();
    const forA = await ticketFor(a.id);
    expect(await refusedStatus(`${url(b.id)}?ticket=${forA.ticket}`)).toBe(401);
    // Consumed by that attempt: it no longer opens A either.
    expect(await refusedStatus(`${s.wsUrl}${forA.url}`)).toBe(401);
    const again = await ticketFor(a.id);
    expect((await fetch(`${s.url}/pty/${a.id}?ticket=${again.ticket}`)).status).toBe(401);
    expect((await fetch(`${s.url}${again.url}`)).status).toBe(401);
    expect(await refusedStatus(`${s.wsUrl}/pty/${a.id}/connect?ticket=tkt_${'A'.repeat(43)}`)).toBe(401);
  });

  it('a ticket acts as the token that made it: without read the upgrade is 403', async () => {
    const { token } = await s.token(['write', 'execute']);
    const pty = await s.createPty();
    const t = await ticketFor(pty.id, token);
    expect(await refusedStatus(`${s.wsUrl}${t.url}`)).toBe(403);
  });
});
