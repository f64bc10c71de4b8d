// Share links to agent sessions, on the server: made with read + write + execute; the token reads
// its session and messages and its own session's events (streamed agent text, shell results) and
// nothing else; another session is 404 like a missing one; revocation and expiry end its event
// stream within a second; the session's deletion reaches it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, deleteTokens } from '../../src/auth/token-admin.js';
import type { Permission } from '../../src/auth/permissions.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { briefShare, makeShare, type ShareServer } from '../pty-routes/share-helpers.js';
import { createSession, openEvents, setProvider, startHarness, waitFor, type Harness } from './helpers.js';

let h: Harness;
let rwx: string;
let model: FakeModel;
let asServer: ShareServer;

beforeAll(async () => {
  h = await startHarness();
  rwx = (await h.token()).token;
  model = await startFakeModel();
  await setProvider(h, rwx, model.baseURL);
  asServer = { env: h.env, fetch: (p, init = {}) => fetchWith(p, init) };
});
afterAll(async () => {
  await h?.close();
  await model?.close();
});

function fetchWith(pathname: string, init: RequestInit & { token?: string }): Promise<Response> {
  const { token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return fetch(h.url + pathname, { ...rest, headers });
}

describe('share links to sessions', () => {
  it('never outlive the token that makes them: the default is cut to its expiry, a longer one is 403', async () => {
    const ses = await createSession(h, rwx);
    const soon = new Date(Date.now() + 20 * 60_000).toISOString();
    const { token } = await createToken({ name: 'short-lived', permissions: ['read', 'write', 'execute'], expiresAt: soon }, h.env.tokenFile);
    const cut = await h.call('POST', `/session/${ses.id}/share`, { token, body: {} });
    expect(cut.status).toBe(201);
    expect(cut.body.expiresAt).toBe(soon);
    const longer = await h.call('POST', `/session/${ses.id}/share`, { token, body: { expires: '1h' } });
    expect(longer.status).toBe(403);
    expect(longer.body.error.code).toBe('expiry_exceeds_token');
  });

  it('need read + write + execute, and 404 for an unknown session', async () => {
    const ses = await createSession(h, rwx);
    const without: Permission[][] = [['read'], ['read', 'write'], ['read', 'execute'], ['write', 'execute']];
    for (const perms of without) {
      const { token } = await h.token(perms);
      expect((await h.call('POST', `/session/${ses.id}/share`, { token, body: {} })).status, perms.join('+')).toBe(403);
    }
    const link = await makeShare(asServer, 'session', ses.id, rwx, { expires: '30m' });
    expect(link.url).toMatch(new RegExp(`^${h.url}/share#tether_`));
    expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60_000);
    expect((await h.call('POST', '/session/ses_0000000000000000000000/share', { token: rwx, body: {} })).status).toBe(404);
  });

  it('the token reads its session and its messages (shell output included), and nothing else', async () => {
    const mine = await createSession(h, rwx, { title: 'shared one' });
    const other = await createSession(h, rwx, { title: 'private one' });
    expect((await h.call('POST', `/session/${mine.id}/shell`, { token: rwx, body: { command: 'echo shared-$((6*7))' } })).status).toBe(200);
    expect((await h.call('POST', `/session/${other.id}/shell`, { token: rwx, body: { command: 'echo private-$((6*7))' } })).status).toBe(200);
    const { token } = await makeShare(asServer, 'session', mine.id, rwx);

    expect((await h.call('GET', `/session/${mine.id}`, { token })).body).toMatchObject({ id: mine.id, title: 'shared one' });
    const msgs = await h.call('GET', `/session/${mine.id}/message`, { token });
    expect(msgs.status).toBe(200);
    expect(msgs.text).toContain('shared-42');

    // Another session: 404, word for word what a session that does not exist gets.
    const fake = 'ses_0000000000000000000000';
    const norm = (r: { status: number; text: string }, id: string) => [r.status, r.text.split(id).join('<id>')];
    for (const sub of ['', '/message']) {
      const seen = norm(await h.call('GET', `/session/${other.id}${sub}`, { token }), other.id);
      expect(seen[0]).toBe(404);
      expect(seen[1]).not.toContain('private');
      expect(norm(await h.call('GET', `/session/${fake}${sub}`, { token }), fake)).toEqual(seen);
      expect(norm(await h.call('GET', `/session/${fake}${sub}`, { token: rwx }), fake)).toEqual(seen);
    }

    const tries: [string, string, unknown?][] = [
      ['GET', '/session'],
      ['POST', '/session', {}],
      ['PATCH', `/session/${mine.id}`, { title: 'renamed by viewer' }],
      ['DELETE', `/session/${mine.id}`],
      ['POST', `/session/${mine.id}/message`, { text: 'hello from the viewer' }],
      ['POST', `/session/${mine.id}/shell`, { command: 'echo viewer-ran' }],
      ['POST', `/session/${mine.id}/abort`],
      ['POST', `/session/${mine.id}/share`, {}],
      ['GET', '/config'],
      ['PATCH', '/config', { modelUrl: 'http://127.0.0.1:9/v1' }],
    ];
    const modelCalls = model.requests.length;
    for (const [method, p, body] of tries) {
      const r = await h.call(method, p, { token, ...(body === undefined ? {} : { body }) });
      expect(r.status, `${method} ${p}`).toBe(403);
      expect(r.body.error.code).toBe('outside_share');
    }
    expect(model.requests.length).toBe(modelCalls);
    const after = await h.call('GET', `/session/${mine.id}/message`, { token: rwx });
    expect(after.text).not.toContain('viewer');
    expect((await h.call('GET', `/session/${mine.id}`, { token: rwx })).body.title).toBe('shared one');
  });

  it('its event stream carries its own session only: streamed agent text, shell results, renames, deletion', async () => {
    const mine = await createSession(h, rwx);
    const other = await createSession(h, rwx);
    const { token } = await makeShare(asServer, 'session', mine.id, rwx);
    const viewerEvents = await openEvents(h, token);
    const adminEvents = await openEvents(h, rwx);

    model.reply({ text: ['Hel', 'lo ', 'shared ', 'world'] });
    expect((await h.call('POST', `/session/${mine.id}/message`, { token: rwx, body: { text: 'say hello' } })).status).toBe(200);
    model.reply({ text: ['other ', 'secret'] });
    expect((await h.call('POST', `/session/${other.id}/message`, { token: rwx, body: { text: 'other prompt' } })).status).toBe(200);
    await h.call('POST', `/session/${mine.id}/shell`, { token: rwx, body: { command: 'echo out-$((5*5))' } });
    await h.call('PATCH', `/session/${mine.id}`, { token: rwx, body: { title: 'renamed' } });
    await h.call('PATCH', `/session/${other.id}`, { token: rwx, body: { title: 'other renamed' } });
    await h.call('PATCH', '/config', { token: rwx, body: { agentMaxSteps: 5 } });
    await h.call('DELETE', `/session/${mine.id}`, { token: rwx });
    await adminEvents.waitFor((e) => e.data?.type === 'session.deleted' && e.data.properties.sessionId === mine.id, 'the deletion on the admin stream');
    await viewerEvents.waitFor((e) => e.data?.type === 'session.deleted', 'the deletion on the share stream');

    const types = viewerEvents.events.map((e) => e.data.type as string);
    expect(types).toContain('message.part.delta');
    expect(types).toContain('message.completed');
    expect(types).toContain('session.updated');
    // The admin saw the other session and the settings change; the share stream saw neither.
    expect(adminEvents.text()).toContain('secret');
    expect(adminEvents.text()).toContain('config.updated');
    expect(viewerEvents.text()).not.toContain('secret');
    expect(viewerEvents.text()).not.toContain('other prompt');
    expect(viewerEvents.text()).not.toContain('config.updated');
    for (const e of viewerEvents.events) {
      const p = e.data.properties;
      if (e.data.type === 'server.connected') continue;
      expect(p.sessionId ?? p.session?.id, e.raw).toBe(mine.id);
    }
    const streamed = viewerEvents.events.filter((e) => e.data.type === 'message.part.delta').map((e) => e.data.properties.text as string);
    expect(streamed.join('')).toContain('shared world');
    viewerEvents.close();
    adminEvents.close();
  });

  it('deleting the token ends its event stream within 1 s (server.closing: token revoked)', async () => {
    const ses = await createSession(h, rwx);
    const link = await makeShare(asServer, 'session', ses.id, rwx);
    const stream = await openEvents(h, link.token);
    await deleteTokens([link.id], h.env.tokenFile);
    const deletedAt = Date.now();
    await stream.waitFor((e) => e.data?.type === 'server.closing', 'server.closing', 3000);
    await stream.ended;
    expect(Date.now() - deletedAt).toBeLessThan(1000);
    expect(stream.events.at(-1)!.data).toEqual({ type: 'server.closing', properties: { reason: 'token revoked' } });
  });

  it('an expiring token ends its event stream within 1 s of expiry (token expired)', async () => {
    const ses = await createSession(h, rwx);
    const brief = await briefShare(asServer, 'session', ses.id, 1500);
    const stream = await openEvents(h, brief.token);
    await stream.waitFor((e) => e.data?.type === 'server.closing', 'server.closing', 5000);
    const at = Date.now();
    await stream.ended;
    expect(at - brief.expiresAt).toBeLessThan(1000);
    expect(stream.events.at(-1)!.data.properties).toEqual({ reason: 'token expired' });
    await waitFor(async () => (await h.call('GET', `/session/${ses.id}`, { token: brief.token })).status === 401, { what: 'the expired token refused' });
  });
});
