// `GET /oauth/authorize`: what a request must hold. Pure. Until the client and its exact redirect
// URI are known good, an error is shown to the user (400), never redirected: a redirect to an
// unchecked URI would make tether an open redirector. After that, errors go back to the client.
import { isPermission, normalizePermissions, type Permission } from '../permissions.js';
import { CHALLENGE_PATTERN } from './pkce.js';
import type { OAuthClient } from './client-store.js';

export interface PendingRequest {
  clientId: string;
  clientName: string;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  resource: string;
  permissions: Permission[];
}

export type AuthorizeResult =
  | { kind: 'show'; message: string }
  | { kind: 'redirect'; redirectUri: string; error: string; description: string; state: string | undefined }
  | { kind: 'ok'; request: PendingRequest };

const STATE_MAX = 1000;

/** `scope` (space-separated) -> permissions; absent: read. Null when a scope is unknown. */
export function parseScope(scope: string | undefined): Permission[] | null {
  if (scope === undefined || scope.trim() === '') return ['read'];
  const parts = scope.trim().split(/ +/);
  if (!parts.every(isPermission)) return null;
  return normalizePermissions(parts);
}

export function checkAuthorize(params: URLSearchParams, findClient: (id: string) => OAuthClient | undefined, resource: string): AuthorizeResult {
  // Every parameter at most once (RFC 6749 3.1): a repeated one is a request to refuse, not to guess.
  for (const k of new Set(params.keys())) if (params.getAll(k).length > 1) return { kind: 'show', message: `the parameter ${k} is repeated` };
  const clientId = params.get('client_id');
  if (!clientId) return { kind: 'show', message: 'client_id is missing: the client must register first (POST /oauth/register)' };
  const client = findClient(clientId);
  if (!client) return { kind: 'show', message: 'this client is not registered here (or its registration was evicted): it must register again' };
  const redirectUri = params.get('redirect_uri') ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (!redirectUri) return { kind: 'show', message: 'redirect_uri is missing, and the client registered more than one' };
  if (!client.redirectUris.includes(redirectUri)) return { kind: 'show', message: 'redirect_uri is not one the client registered (it must match exactly)' };

  const state = params.get('state') ?? undefined;
  const fail = (error: string, description: string): AuthorizeResult => ({ kind: 'redirect', redirectUri, error, description, state });
  if (state !== undefined && state.length > STATE_MAX) return fail('invalid_request', `state is at most ${STATE_MAX} characters`);
  if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  const method = params.get('code_challenge_method');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
  const challenge = params.get('code_challenge');
  if (!challenge || !CHALLENGE_PATTERN.test(challenge)) return fail('invalid_request', 'code_challenge must be the 43-character base64url S256 challenge');
  const permissions = parseScope(params.get('scope') ?? undefined);
  if (!permissions) return fail('invalid_scope', 'scope may hold only read, write and execute');
  // Absent: this server has one resource, and the grant is bound to it all the same (RFC 8707).
  const asked = params.get('resource');
  if (asked !== null && asked !== resource) return fail('invalid_target', `resource must be ${resource}`);
  return {
    kind: 'ok',
    request: { clientId, clientName: client.name, redirectUri, state, codeChallenge: challenge, resource, permissions },
  };
}

/** The client's redirect URI with the response parameters added (its own query kept). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}
