// Share links to terminals, on the server: who may make one, what the link is, and what its token
// can do with a terminal (watch it, view only) and cannot (type, resize, reach another terminal or
// anything else); revocation and expiry close its connections within a second; a terminal's end
// reaches it. The cross-route matrix is test/security/escalation-share.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTokens, listTokens } from '../../src/auth/token-admin.js';
import type { Permission } from '../../src/auth/permissions.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestServer } from '../helpers/server.js';
import { bash, connect, ready, refusedStatus, startPtyServer, waitFor, type PtyServer, type TermClient } from './helpers.js';
import { briefShare, makeShare } from './share-helpers.js';

let s: PtyServer;
beforeAll(async () => {
  s = await startPtyServer();
});
afterAll(async () => {
  await s?.close();
});

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const url = (id: string, query = '') => `${s.wsUrl}/pty/${id}/connect${query}`;
const viewer = (id: string, token: string, query = '') => connect(url(id, query), { protocols: ['tether', `tether.auth.${token}`] });
/** Every frame sent before this has been handled by the server (ws answers a ping in order). */
const synced = (t: TermClient) => new Promise<void>((resolve) => (t.ws.once('pong', () => resolve()), t.ws.ping()));

describe('making a share link', () => {
  it('needs read + write + execute; answers the link once, with the token in the fragment only', async () => {
    const pty = await s.createPty();
    const without: Permission[][] = [['read'], ['read', 'write'], ['write', 'execute'], ['read', 'execute']];
    for (const perms of without) {
      const { token } = await s.token(perms);
      const res = await s.fetch(`/pty/${pty.id}/share`, { method: 'POST', token, ...json({}) });
      expect(res.status, perms.join('+')).toBe(403);
      expect((await res.json()).error.code).toBe('insufficient_permissions');
    }
    expect(await listTokens(s.env.tokenFile).then((t) => t.filter((x) => x.kind === 'share'))).toEqual([]);

    const before = Date.now();
    const res = await s.fetch(`/pty/${pty.id}/share`, { method: 'POST', token: s.admin, ...json({}) });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const link = await res.json();
    expect(link.url).toMatch(new RegExp(`^${s.url}/share#tether_[0-9A-Za-z]{28}$`));
    expect(link.target).toEqual({ type: 'pty', id: pty.id });
    const expires = Date.parse(link.expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(3_600_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(3_600_000);
    const token = link.url.split('#')[1];
    // Listed with its target, read only; the secret is nowhere but in the answer.
    const listed = (await listTokens(s.env.tokenFile)).find((t) => t.id === link.id)!;
    expect(listed).toMatchObject({ kind: 'share', target: { type: 'pty', id: pty.id }, permissions: ['read'], name: link.name, status: 'active' });
    expect(fs.readFileSync(s.env.tokenFile, 'utf8')).not.toContain(token);
    expect(JSON.stringify(s.logs)).not.toContain(token);
    expect(s.logs.find((l) => l.event === 'share.created' && l.tokenId === link.id)).toBeDefined();
    // The token works at once.
    const me = await (await s.fetch('/auth/whoami', { token })).json();
    expect(me).toMatchObject({ id: link.id, permissions: ['read'], kind: 'share', target: { type: 'pty', id: pty.id }, expiresAt: link.expiresAt });
  });

  it('takes an expiry (at most 7 days) and a name; refuses bad ones with 400 and writes nothing', async () => {
    const pty = await s.createPty();
    const week = await makeShare(s, 'pty', pty.id, s.admin, { expires: '7d', name: 'for-bob' });
    expect(Date.parse(week.expiresAt) - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
    const count = (await listTokens(s.env.tokenFile)).length;
    const bad: [unknown, RegExp][] = [
      [{ expires: '8d' }, /more than 7 days/],
      [{ expires: 'never' }, /always expires/],
      [{ expires: '2000-01-01' }, /in the past/],
      [{ expires: 'soon' }, /cannot understand/],
      [{ expires: 5 }, /expires/],
      [{ expires: 'x'.repeat(200) }, /expires/],
      [{ name: 'tok_abc' }, /name/],
      [{ name: 'for-bob' }, /already exists/],
      [{ target: { type: 'pty', id: 'pty_0000000000000000' } }, /target/],
      [{ permissions: ['read', 'write', 'execute'] }, /permissions/],
    ];
    for (const [body, message] of bad) {
      const res = await s.fetch(`/pty/${pty.id}/share`, { method: 'POST', token: s.admin, ...json(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await res.json()).error.message).toMatch(message);
    }
    expect((await listTokens(s.env.tokenFile)).length).toBe(count);
  });

  it('is 404 for an unknown terminal', async () => {
    const res = await s.fetch('/pty/pty_0000000000000000/share', { method: 'POST', token: s.admin, ...json({}) });
    expect(res.status).toBe(404);
  });

  it('the link names the host the caller reached (checked Host), never the request line of an absolute-form request', async () => {
    const pty = await s.createPty();
    expect((await makeShare(s, 'pty', pty.id, s.admin)).url.startsWith(`${s.url}/share#`)).toBe(true);
    const body = '{}';
    const r = await rawRequest(
      s.server.port,
      `POST http://evil.example/pty/${pty.id}/share HTTP/1.1\r\nHost: localhost:${s.server.port}\r\nAuthorization: Bearer ${s.admin}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body).url).toMatch(new RegExp(`^http://localhost:${s.server.port}/share#tether_`));
  });

  it('a server without authentication makes none (409)', async () => {
    const open = await startTestServer({ auth: false, registrars: [(await import('../../src/server/routes/pty.js')).ptyRoutes()] });
    try {
      const pty = await (await open.fetch('/pty', { method: 'POST', ...json(bash()) })).json();
      const res = await open.fetch(`/pty/${pty.id}/share`, { method: 'POST', ...json({}) });
      expect(res.status).toBe(409);
      expect((await res.json()).error.code).toBe('auth_disabled');
    } finally {
      await open.close();
    }
  });
});

describe('a share token on its terminal: view only', () => {
  it('scrollback then live output; keystrokes, input and resize frames change nothing in the terminal', async () => {
    const marker = path.join(s.project, 'pwned');
    const pty = await s.createPty();
    const owner = await connect(url(pty.id), { token: s.admin });
    await ready(owner);
    owner.type('echo before-$((3*3))\r');
    await owner.waitText('before-9');
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    const v = await viewer(pty.id, share.token);
    await v.waitText('before-9'); // the scrollback
    const size = async () => {
      const info = await (await s.fetch(`/pty/${pty.id}`, { token: s.admin })).json();
      return [info.cols, info.rows];
    };
    const sizeBefore = await size();

    v.type(`touch ${marker}; echo PWNED-$((6*7))\r`);
    v.control({ type: 'input', data: `touch ${marker}; echo PWNED-$((6*7))\r` });
    v.control({ type: 'resize', cols: 33, rows: 11 });
    v.ws.send('not json at all');
    v.ws.send(Buffer.from('\x03\x04exit\r'), { binary: true });
    await synced(v);

    owner.type('echo after-$((2*3)); stty size\r');
    await owner.waitText('after-6');
    await owner.waitText(/\r\n\d+ \d+\r\n/);
    await v.waitText('after-6'); // the viewer sees live output
    expect(owner.text()).not.toContain('PWNED');
    expect(owner.text()).toMatch(/\r\n24 80\r\n/); // stty: the pty itself was not resized
    expect(fs.existsSync(marker)).toBe(false);
    expect(await size()).toEqual(sizeBefore);
    // Ignored, not answered: a view connection gets no error frames either.
    expect(v.controls).toEqual([]);
    expect(v.closed).toBeNull();
    v.close();
    owner.close();
  });

  it('?view=1 makes any token view only; ?view with another value, or twice, is 400', async () => {
    const pty = await s.createPty();
    const owner = await connect(url(pty.id), { token: s.admin });
    await ready(owner);
    const watch = await connect(url(pty.id, '?view=1'), { token: s.admin });
    await watch.waitText('$ ');
    watch.type('echo VIEWTYPED-$((5*5))\r');
    watch.control({ type: 'resize', cols: 40, rows: 10 });
    await synced(watch);
    owner.type('echo owner-$((4*4))\r');
    await watch.waitText('owner-16');
    expect(owner.text()).not.toContain('VIEWTYPED');
    for (const q of ['?view=0', '?view=true', '?view=', '?view=1&view=1', '?view=2']) {
      expect(await refusedStatus(url(pty.id, q), { token: s.admin }), q).toBe(400);
    }
    // A share token asking not to be view only is refused the same way, and never gets a writable connection.
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    expect(await refusedStatus(url(pty.id, '?view=0'), { protocols: ['tether', `tether.auth.${share.token}`] })).toBe(400);
    watch.close();
    owner.close();
  });

  it('another terminal is 404, exactly as a terminal that does not exist', async () => {
    const mine = await s.createPty();
    const other = await s.createPty();
    const share = await makeShare(s, 'pty', mine.id, s.admin);
    const fake = 'pty_0000000000000000';
    const answer = async (id: string, token: string) => {
      const res = await s.fetch(`/pty/${id}`, { token });
      return [res.status, (await res.text()).split(id).join('<id>')];
    };
    const seen = await answer(other.id, share.token);
    expect(seen[0]).toBe(404);
    expect(await answer(fake, share.token)).toEqual(seen);
    // ...and what the route itself answers any token for an id that does not exist.
    expect(await answer(fake, s.admin)).toEqual(seen);
    expect(await refusedStatus(url(other.id), { protocols: ['tether', `tether.auth.${share.token}`] })).toBe(404);
    expect(await refusedStatus(url(other.id), { token: share.token })).toBe(404);
    // Its own terminal works.
    expect((await s.fetch(`/pty/${mine.id}`, { token: share.token })).status).toBe(200);
  });

  it('every other terminal route is 403: list, create, resize, end, tickets, another share, and a web login', async () => {
    const pty = await s.createPty();
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    const tries: [string, string, unknown?][] = [
      ['GET', '/pty'],
      ['POST', '/pty', bash()],
      ['PUT', `/pty/${pty.id}`, { cols: 50, rows: 10, title: 'owned' }],
      ['DELETE', `/pty/${pty.id}`],
      ['POST', `/pty/${pty.id}/ticket`],
      ['POST', `/pty/${pty.id}/share`, {}],
      ['OPTIONS', `/pty/${pty.id}`],
      ['GET', '/config'],
      ['GET', '/file?path=.'],
    ];
    for (const [method, p, body] of tries) {
      const res = await s.fetch(p, { method, token: share.token, ...(body === undefined ? {} : json(body)) });
      expect(res.status, `${method} ${p}`).toBe(403);
      expect((await res.json()).error.code).toBe('outside_share');
    }
    const login = await s.fetch('/auth/session', { method: 'POST', ...json({ token: share.token }) });
    expect(login.status).toBe(403);
    expect((await login.json()).error.code).toBe('share_token_not_a_login');
    expect(login.headers.get('set-cookie')).toBeNull();
    const info = await (await s.fetch(`/pty/${pty.id}`, { token: s.admin })).json();
    expect(info).toMatchObject({ status: 'running', cols: 80, rows: 24 });
    expect(info.title).not.toBe('owned');
    expect((await listTokens(s.env.tokenFile)).filter((t) => t.kind === 'share' && t.target?.id === pty.id)).toHaveLength(1);
  });

  it('a browser logged in to tether can still watch: its ambient cookie does not stand in for the offered share token', async () => {
    const pty = await s.createPty();
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    const loginRes = await s.fetch('/auth/session', { method: 'POST', ...json({ token: s.admin }) });
    const cookie = /tether_session=[^;]+/.exec(loginRes.headers.get('set-cookie')!)![0];
    const headers = { cookie, origin: s.url };
    const v = await connect(url(pty.id), { headers, protocols: ['tether', `tether.auth.${share.token}`] });
    await v.waitText('$ ');
    // It is the share token's connection: view only, and closed when that token goes.
    v.type('echo COOKIETYPED\r');
    await synced(v);
    await deleteTokens([share.id], s.env.tokenFile);
    expect(await v.waitClose(3000)).toEqual({ code: 4401, reason: 'token revoked' });
    // Without a token offer, a cookie without its key is still refused.
    expect(await refusedStatus(url(pty.id), { headers, protocols: ['tether'] })).toBe(401);
    const owner = await connect(url(pty.id), { token: s.admin });
    owner.type('echo done-$((7*7))\r');
    await owner.waitText('done-49');
    expect(owner.text()).not.toContain('COOKIETYPED');
    owner.close();
  });
});

describe('the end of a share link or of its terminal', () => {
  it('deleting the share token closes its viewers within 1 s (4401 token revoked); the owner goes on', async () => {
    const pty = await s.createPty();
    const owner = await connect(url(pty.id), { token: s.admin });
    await ready(owner);
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    const viewers = [await viewer(pty.id, share.token), await connect(url(pty.id), { token: share.token })];
    for (const v of viewers) await v.waitText('$ ');
    await deleteTokens([share.id], s.env.tokenFile);
    const deletedAt = Date.now();
    for (const v of viewers) {
      expect(await v.waitClose(3000)).toEqual({ code: 4401, reason: 'token revoked' });
      expect(v.closedAt! - deletedAt).toBeLessThan(1000);
    }
    expect((await s.fetch(`/pty/${pty.id}`, { token: share.token })).status).toBe(401);
    owner.type('echo still-$((9*9))\r');
    await owner.waitText('still-81');
    owner.close();
  });

  it('an expiring share token closes its viewer within 1 s of expiry (4401 token expired)', async () => {
    const pty = await s.createPty();
    const brief = await briefShare(s, 'pty', pty.id, 1500);
    const v = await viewer(pty.id, brief.token);
    expect(await v.waitClose(5000)).toEqual({ code: 4401, reason: 'token expired' });
    expect(v.closedAt!).toBeGreaterThanOrEqual(brief.expiresAt);
    expect(v.closedAt! - brief.expiresAt).toBeLessThan(1000);
  });

  it('when the terminal ends, the viewer is told (exit message, close 1000)', async () => {
    const pty = await s.createPty();
    const share = await makeShare(s, 'pty', pty.id, s.admin);
    const v = await viewer(pty.id, share.token);
    await v.waitText('$ ');
    const owner = await connect(url(pty.id), { token: s.admin });
    owner.type('exit 7\r');
    expect(await v.waitClose(5000)).toEqual({ code: 1000, reason: 'exit:7' });
    expect(v.controls).toEqual([{ type: 'exit', exitCode: 7, signal: null }]);
    // An exited terminal can still be watched (its scrollback and exit), until it is removed.
    const again = await viewer(pty.id, share.token);
    await again.waitClose(5000);
    expect(again.controls).toEqual([{ type: 'exit', exitCode: 7, signal: null }]);
    await s.fetch(`/pty/${pty.id}`, { method: 'DELETE', token: s.admin });
    expect((await s.fetch(`/pty/${pty.id}`, { token: share.token })).status).toBe(404);
    await waitFor(() => owner.closed, { what: 'owner closed' });
  });
});
