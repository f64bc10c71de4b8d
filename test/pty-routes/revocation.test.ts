// Revocation reaches live terminals: deleting the token with the real CLI closes the connection it
// opened within a second and kills its unused tickets; an expiring token does the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { connect, ready, refusedStatus, startPtyServer, type PtyServer } from './helpers.js';

let s: PtyServer;
beforeAll(async () => {
  s = await startPtyServer();
});
afterAll(async () => {
  await s?.close();
});

const url = (id: string) => `${s.wsUrl}/pty/${id}/connect`;

describe('revocation', () => {
  it('deleting the token with the CLI closes its terminal connections within 1 s and kills its tickets', async () => {
    const doomed = await s.token(['read', 'write', 'execute'], { name: 'doomed' });
    const pty = await s.createPty();
    const viaHeader = await connect(url(pty.id), { token: doomed.token });
    const viaProtocol = await connect(url(pty.id), { protocols: ['tether', `tether.auth.${doomed.token}`] });
    const ticketRes = await s.fetch(`/pty/${pty.id}/ticket`, { method: 'POST', token: doomed.token });
    const viaTicket = await connect(`${s.wsUrl}${(await ticketRes.json()).url}`);
    const unused = (await (await s.fetch(`/pty/${pty.id}/ticket`, { method: 'POST', token: doomed.token })).json()).url;
    const bystander = await connect(url(pty.id), { token: s.admin });
    await ready(viaHeader);

    const r = await runCli(['auth', 'token', 'delete', doomed.id], s.env.env);
    expect(r.code, r.stderr).toBe(0);
    const deletedAt = Date.now();
    for (const c of [viaHeader, viaProtocol, viaTicket]) {
      const closed = await c.waitClose(3000);
      expect(closed).toEqual({ code: 4401, reason: 'token revoked' });
      expect(c.closedAt! - deletedAt).toBeLessThan(1000);
    }
    expect(await refusedStatus(`${s.wsUrl}${unused}`)).toBe(401);
    expect(s.tickets.size).toBe(0);

    // The terminal and the other token's connection go on.
    bystander.type('echo survivor-$((8*8))\r');
    await bystander.waitText('survivor-64');
    expect(bystander.closed).toBeNull();
    bystander.close();
  });

  it('an expiring token closes its connection within 1 s of expiry, saying so', async () => {
    const expiresAt = Date.now() + 1500;
    const brief = await s.token(['read', 'write', 'execute'], { expiresAt: new Date(expiresAt).toISOString() });
    const pty = await s.createPty();
    const t = await connect(url(pty.id), { token: brief.token });
    const closed = await t.waitClose(5000);
    expect(closed).toEqual({ code: 4401, reason: 'token expired' });
    expect(t.closedAt! - expiresAt).toBeLessThan(1000);
    expect(t.closedAt!).toBeGreaterThanOrEqual(expiresAt);
  });
});
