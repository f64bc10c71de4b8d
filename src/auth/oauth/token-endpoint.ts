// `POST /oauth/token`: the authorization_code and refresh_token grants (OAuth 2.1, public clients
// with PKCE). Answers are RFC 6749 5.1/5.2: `{access_token, token_type, expires_in, refresh_token,
// scope}` or `{error, error_description}`.
import { deleteTokens } from '../token-admin.js';
import { parseScope } from './authorize.js';
import { createGrant, rotateRefreshToken } from './grants.js';
import { verifierMatches } from './pkce.js';
import type { OAuthState } from './state.js';
import type { TokenRecord } from '../shapes.js';
import { redirectHost } from './registration.js';

export type TokenAnswer = {
  status: 200 | 400 | 401;
  body: Record<string, unknown>;
  failed?: boolean;
  /** A grant this request made the server revoke (for the audit trail). */
  revoked?: { grantId: string; clientId: string; reason: 'code_replayed' | 'refresh_token_reused' };
};

const error = (status: 400 | 401, error: string, description: string, failed = false): TokenAnswer => ({
  status,
  body: { error, error_description: description },
  failed,
});

function issued(state: OAuthState, record: TokenRecord, refreshToken: string): TokenAnswer {
  const { token, expiresIn } = state.access.issue(record.id, record.audience!);
  return {
    status: 200,
    body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refreshToken, scope: record.permissions.join(' ') },
  };
}

/** `failed`: a presented secret (code, verifier, refresh token) was wrong; the route counts it as a failed authentication. */
export async function tokenRequest(state: OAuthState, form: URLSearchParams, resource: string): Promise<TokenAnswer> {
  for (const k of new Set(form.keys())) if (form.getAll(k).length > 1) return error(400, 'invalid_request', `the parameter ${k} is repeated`);
  const grantType = form.get('grant_type');
  const clientId = form.get('client_id');
  if (!clientId) return error(400, 'invalid_request', 'client_id is required (public clients identify themselves with it)');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    return error(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }
  if (!state.clients.get(clientId)) return error(401, 'invalid_client', 'this client is not registered here; register again');
  const asked = form.get('resource');
  if (asked !== null && asked !== resource) return error(400, 'invalid_target', `resource must be ${resource}`);

  if (grantType === 'refresh_token') {
    const scope = form.get('scope');
    const r = await rotateRefreshToken(state.tokenFile, form.get('refresh_token'), clientId, Date.now(), state.retired);
    if (!r.ok) {
      if (!r.revoked) return error(400, 'invalid_grant', r.description, true);
      state.access.dropGrant(r.revoked);
      return { ...error(400, 'invalid_grant', r.description, true), revoked: { grantId: r.revoked, clientId, reason: 'refresh_token_reused' } };
    }
    // A narrower scope cannot be honoured per access token (the grant decides), so only the grant's own is accepted.
    if (scope !== null) {
      const wanted = parseScope(scope);
      if (!wanted || wanted.some((p) => !r.record.permissions.includes(p)))
        return error(400, 'invalid_scope', `scope may not exceed the grant's: ${r.record.permissions.join(' ')}`);
    }
    return issued(state, r.record, r.refreshToken);
  }

  const code = form.get('code');
  const bound = code === null ? undefined : state.code(code);
  if (!bound) return error(400, 'invalid_grant', 'the authorization code is not valid (expired, used or never issued)', true);
  if (bound.redeemedGrantId !== undefined) {
    // A replayed code: whoever holds it may have stolen it, so the grant made from it ends too.
    const grantId = bound.redeemedGrantId;
    bound.redeemedGrantId = null;
    const refused = error(400, 'invalid_grant', 'the authorization code was already used; the grant made from it is revoked', true);
    if (!grantId) return refused;
    state.access.dropGrant(grantId);
    const deleted = await deleteTokens([grantId], state.tokenFile).then(
      () => true,
      () => false, // already deleted (by the CLI, or a reused refresh token)
    );
    return deleted ? { ...refused, revoked: { grantId, clientId: bound.clientId, reason: 'code_replayed' } } : refused;
  }
  // Single use from here on, whatever the outcome: a wrong verifier does not get a second try.
  bound.redeemedGrantId = null;
  if (bound.clientId !== clientId) return error(400, 'invalid_grant', 'the code was issued to another client', true);
  if (form.get('redirect_uri') !== bound.redirectUri) return error(400, 'invalid_grant', 'redirect_uri must be the one of the authorization request', true);
  if (!verifierMatches(form.get('code_verifier'), bound.codeChallenge))
    return error(400, 'invalid_grant', 'code_verifier does not match the code challenge (S256)', true);
  if (bound.resource !== resource) return error(400, 'invalid_target', `the code was issued for ${bound.resource}`);
  const { refreshToken, record } = await createGrant(state.tokenFile, {
    client: { id: bound.clientId, name: bound.clientName, redirectHost: redirectHost(bound.redirectUri) },
    permissions: bound.permissions,
    scopes: bound.scopes,
    audience: bound.resource,
  });
  bound.redeemedGrantId = record.id;
  return issued(state, record, refreshToken);
}
