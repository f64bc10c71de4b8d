// The authorization server's constants and its RFC 8414 metadata. Pure.
import { PERMISSIONS } from '../permissions.js';

export const MCP_RESOURCE_PATH = '/mcp';
export const AUTHORIZE_PATH = '/oauth/authorize';
export const TOKEN_PATH = '/oauth/token';
export const REGISTER_PATH = '/oauth/register';
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server';

/** Access tokens live this long (held in memory only: a restart ends them, clients refresh). */
export const ACCESS_TOKEN_TTL_MS = 3600_000;
/** A grant (and so its refresh token) lives this long from its approval. */
export const GRANT_TTL_MS = 90 * 86_400_000;
/** A pending authorization request waits this long for the user's decision. */
export const PENDING_TTL_MS = 10 * 60_000;
/** An authorization code is redeemable this long, once. */
export const CODE_TTL_MS = 60_000;

/** The resource every grant is for: this server's /mcp. */
export const resourceFor = (origin: string) => `${origin}${MCP_RESOURCE_PATH}`;

export function authorizationServerMetadata(origin: string) {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}${AUTHORIZE_PATH}`,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    registration_endpoint: `${origin}${REGISTER_PATH}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...PERMISSIONS],
    authorization_response_iss_parameter_supported: true,
  };
}
