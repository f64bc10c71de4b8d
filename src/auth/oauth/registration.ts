// RFC 7591 dynamic client registration: what a client may register. Pure. Everything a client sends
// is untrusted: its redirect URIs are only ever compared and sent back to the browser as a
// redirect, never opened, fetched or executed by the server (the lesson of CVE-2025-6514); its name
// is shown on the consent page as text, after the sanitizing below.
import { CLIENT_NAME_MAX } from '../token-record.js';

export const MAX_REDIRECT_URIS = 5;
export const REDIRECT_URI_MAX = 2000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export const REDIRECT_RULE = 'https://... or a loopback http://127.0.0.1, http://[::1] or http://localhost (any port) URL, without a fragment or credentials';

export interface Registration {
  redirectUris: string[];
  name: string;
}

export type RegistrationResult =
  { ok: true; value: Registration } | { ok: false; error: 'invalid_redirect_uri' | 'invalid_client_metadata'; description: string };

/** Null if `uri` may be a redirect URI, else why not. */
export function redirectUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length === 0) return 'a redirect URI is a non-empty string';
  if (uri.length > REDIRECT_URI_MAX) return `a redirect URI is at most ${REDIRECT_URI_MAX} characters`;
  if (/[^!-~]/.test(uri)) return 'a redirect URI has no spaces, control or non-ASCII characters';
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (uri.includes('#')) return 'a redirect URI has no fragment';
  if (u.username || u.password) return 'a redirect URI carries no credentials';
  if (u.protocol === 'https:') return u.hostname ? null : 'an https redirect URI names a host';
  if (u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname)) return null;
  return `${JSON.stringify(uri.slice(0, 200))} is not allowed: use ${REDIRECT_RULE}`;
}

/**
 * A client's name for display: control, format (bidi) and line characters removed, whitespace
 * collapsed, at most CLIENT_NAME_MAX characters. Empty when nothing printable is left.
 */
export function sanitizeClientName(name: string): string {
  return name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
    .slice(0, CLIENT_NAME_MAX)
    .trim();
}

/** The host (and port) a client's redirect goes to, as the consent page shows it. */
export function redirectHost(uri: string): string {
  return new URL(uri).host;
}

export function validateRegistration(body: unknown): RegistrationResult {
  const bad = (description: string): RegistrationResult => ({ ok: false, error: 'invalid_client_metadata', description });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('the registration is a JSON object');
  const b = body as Record<string, unknown>;
  const uris = b.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0) return { ok: false, error: 'invalid_redirect_uri', description: 'redirect_uris is a non-empty array' };
  if (uris.length > MAX_REDIRECT_URIS) return { ok: false, error: 'invalid_redirect_uri', description: `at most ${MAX_REDIRECT_URIS} redirect_uris` };
  for (const u of uris) {
    const problem = redirectUriProblem(u);
    if (problem) return { ok: false, error: 'invalid_redirect_uri', description: problem };
  }
  const method = b.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none') return bad('token_endpoint_auth_method must be "none" (public clients with PKCE)');
  const grants = b.grant_types;
  if (grants !== undefined && (!Array.isArray(grants) || !grants.every((g) => g === 'authorization_code' || g === 'refresh_token'))) {
    return bad('grant_types may hold only authorization_code and refresh_token');
  }
  const types = b.response_types;
  if (types !== undefined && (!Array.isArray(types) || !types.every((t) => t === 'code'))) return bad('response_types may hold only code');
  let name = 'unnamed client';
  if (b.client_name !== undefined) {
    if (typeof b.client_name !== 'string' || b.client_name.length > CLIENT_NAME_MAX)
      return bad(`client_name is a string of at most ${CLIENT_NAME_MAX} characters`);
    const clean = sanitizeClientName(b.client_name);
    if (clean === '') return bad('client_name has no printable characters');
    name = clean;
  }
  return { ok: true, value: { redirectUris: [...new Set(uris as string[])], name } };
}
