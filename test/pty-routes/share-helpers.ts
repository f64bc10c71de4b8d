// Share links in the terminal and session route tests: made through the API (as the CLI and the web
// UI make them) or, for a short expiry the API does not offer, through token-admin directly.
import { createToken } from '../../src/auth/token-admin.js';
import type { TestServer } from '../helpers/server.js';

/** What the helpers use of a test server. */
export type ShareServer = Pick<TestServer, 'fetch' | 'env'>;

export interface MadeShare {
  token: string;
  id: string;
  url: string;
  expiresAt: string;
}

/** POST /<type>/<id>/share with `token`; throws unless 201. */
export async function makeShare(s: ShareServer, type: 'pty' | 'session', id: string, token: string, body: unknown = {}): Promise<MadeShare> {
  const res = await s.fetch(`/${type}/${id}/share`, { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 201) throw new Error(`POST /${type}/${id}/share -> ${res.status}: ${JSON.stringify(json)}`);
  return { token: json.url.split('#')[1], id: json.id, url: json.url, expiresAt: json.expiresAt };
}

/** A share token expiring `ms` from now (shorter than the API's one-minute minimum). */
export async function briefShare(s: ShareServer, type: 'pty' | 'session', id: string, ms: number): Promise<{ token: string; id: string; expiresAt: number }> {
  const expiresAt = Date.now() + ms;
  const { token, record } = await createToken(
    { permissions: ['read'], expiresAt: new Date(expiresAt).toISOString(), kind: 'share', target: { type, id } },
    s.env.tokenFile,
  );
  return { token, id: record.id, expiresAt };
}
