// An OAuth client's side of tether's authorization server, step by step, for the tests: register,
// authorize with PKCE, decide on the consent request (over the API, or in a browser by the caller),
// redeem the code and refresh.
import { createHash, randomBytes } from 'node:crypto';

export const REDIRECT = 'http://127.0.0.1:9/callback';

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function register(base: string, body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${base}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Test Client', redirect_uris: [REDIRECT], ...body }),
  });
}

export async function registered(base: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await register(base, body);
  if (r.status !== 201) throw new Error(`registration: ${r.status} ${await r.text()}`);
  return (await r.json()).client_id;
}

export function authorizeUrl(base: string, clientId: string, challenge: string, extra: Record<string, string | null> = {}): string {
  const u = new URL(`${base}/oauth/authorize`);
  const params: Record<string, string | null> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    scope: 'read write',
    resource: `${base}/mcp`,
    ...extra,
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
  return u.toString();
}

/** The pending request id from the authorize redirect to the consent page. */
export async function authorize(base: string, clientId: string, challenge: string, extra: Record<string, string | null> = {}): Promise<string> {
  const r = await fetch(authorizeUrl(base, clientId, challenge, extra), { redirect: 'manual' });
  const loc = r.headers.get('location') ?? '';
  const m = /^\/#\/consent\/([A-Za-z0-9_-]+)$/.exec(loc);
  if (r.status !== 302 || !m) throw new Error(`authorize: ${r.status} ${loc} ${await r.text()}`);
  return m[1];
}

export async function decide(base: string, token: string, requestId: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/oauth/request/${requestId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export async function approvedCode(base: string, token: string, requestId: string, body: Record<string, unknown> = {}): Promise<string> {
  const r = await decide(base, token, requestId, { approve: true, ...body });
  if (r.status !== 200) throw new Error(`approve: ${r.status} ${await r.text()}`);
  const redirect = new URL((await r.json()).redirect);
  return redirect.searchParams.get('code')!;
}

export async function tokenCall(base: string, params: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
}

export function redeem(base: string, clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) {
  return tokenCall(base, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    code_verifier: verifier,
    resource: `${base}/mcp`,
    ...extra,
  });
}

export function refresh(base: string, clientId: string, refreshToken: string) {
  return tokenCall(base, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
}
