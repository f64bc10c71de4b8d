// tether's OAuth 2.1 authorization server for /mcp (the MCP authorization spec, 2025-11-25): RFC 8414
// metadata, RFC 7591 registration, the authorization endpoint (which hands the user to the web UI's
// consent page, routes/oauth-consent.ts) and the token endpoint. All public: a client has no token
// yet. The logic lives in src/auth/oauth/; these handlers parse, answer and log. No URL a client
// sends is ever opened or fetched here: redirect URIs are compared, and given back to the browser.
import type { Context } from 'hono';
import { checkAuthorize, redirectWith } from '../../auth/oauth/authorize.js';
import { AS_METADATA_PATH, AUTHORIZE_PATH, REGISTER_PATH, TOKEN_PATH, authorizationServerMetadata, resourceFor } from '../../auth/oauth/metadata.js';
import { validateRegistration } from '../../auth/oauth/registration.js';
import { tokenRequest } from '../../auth/oauth/token-endpoint.js';
import { TetherError } from '../../errors.js';
import type { RouteRegistrar } from '../context.js';
import { errorJson } from '../http-errors.js';

/** Registrations and token requests are small; anything bigger is not one. */
export const MAX_OAUTH_BODY = 16 * 1024;

const origin = (c: Context) => new URL(c.req.url).origin;

async function smallBody(c: Context): Promise<string | null> {
  const text = await c.req.text();
  return Buffer.byteLength(text) > MAX_OAUTH_BODY ? null : text;
}

/** RFC 6749 5.2 error answers, never cached. */
function oauthError(c: Context, status: number, error: string, description: string) {
  c.header('Cache-Control', 'no-store');
  return c.json({ error, error_description: description }, status as 400);
}

export const registerOAuth: RouteRegistrar = (app, ctx) => {
  app.get(AS_METADATA_PATH, (c) => c.json(authorizationServerMetadata(origin(c))));

  app.post(REGISTER_PATH, async (c) => {
    const oauth = ctx.oauth;
    if (!oauth) return oauthError(c, 400, 'invalid_request', 'this server runs without authentication (--no-auth): connect to /mcp without OAuth');
    const address = ctx.clientAddress(c);
    const wait = oauth.registrations.fail(address);
    if (wait) {
      c.header('Retry-After', String(wait));
      return oauthError(c, 429, 'too_many_requests', `too many client registrations from this network; retry after ${wait} s`);
    }
    const text = await smallBody(c);
    if (text === null) return oauthError(c, 413, 'invalid_client_metadata', `a registration is at most ${MAX_OAUTH_BODY} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return oauthError(c, 400, 'invalid_client_metadata', 'the registration is not JSON');
    }
    const v = validateRegistration(body);
    if (!v.ok) return oauthError(c, 400, v.error, v.description);
    let client;
    try {
      client = await oauth.clients.register(v.value);
    } catch (err) {
      if (err instanceof TetherError) return oauthError(c, err.status, err.code, err.message);
      throw err;
    }
    ctx.log.log('info', 'oauth.client_registered', { clientId: client.id, address });
    c.header('Cache-Control', 'no-store');
    return c.json(
      {
        client_id: client.id,
        client_id_issued_at: Math.floor(Date.parse(client.createdAt) / 1000),
        client_name: client.name,
        redirect_uris: client.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      201,
    );
  });

  app.get(AUTHORIZE_PATH, (c) => {
    const oauth = ctx.oauth;
    if (!oauth) return errorJson(c, 400, 'auth_disabled', 'this server runs without authentication (--no-auth): connect to /mcp without OAuth');
    const params = new URL(c.req.url).searchParams;
    const r = checkAuthorize(params, (id) => oauth.clients.get(id), resourceFor(origin(c)));
    if (r.kind === 'show') return errorJson(c, 400, 'invalid_authorization_request', `this authorization request cannot be served: ${r.message}`);
    if (r.kind === 'redirect') {
      return c.redirect(redirectWith(r.redirectUri, { error: r.error, error_description: r.description, state: r.state, iss: origin(c) }), 302);
    }
    const { id } = oauth.newPending(r.request);
    ctx.log.log('info', 'oauth.authorize', { clientId: r.request.clientId, request: id });
    // The consent page (web UI, logged in) reads the request by this id; it is no credential.
    return c.redirect(`/#/consent/${id}`, 302);
  });

  app.post(TOKEN_PATH, async (c) => {
    const oauth = ctx.oauth;
    if (!oauth) return oauthError(c, 400, 'invalid_request', 'this server runs without authentication (--no-auth)');
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return oauthError(c, 400, 'invalid_request', 'send the parameters as application/x-www-form-urlencoded');
    const text = await smallBody(c);
    if (text === null) return oauthError(c, 400, 'invalid_request', `a token request is at most ${MAX_OAUTH_BODY} bytes`);
    const address = ctx.clientAddress(c);
    if (ctx.limiter.isThrottled(address)) {
      c.header('Retry-After', '60');
      return oauthError(c, 429, 'too_many_requests', 'too many failed authentication attempts from this network; retry in a minute');
    }
    const answer = await tokenRequest(oauth, new URLSearchParams(text), resourceFor(origin(c)));
    if (answer.revoked) {
      const { grantId, clientId, reason } = answer.revoked;
      ctx.log.log('warn', 'oauth.grant_revoked', { grantId, clientId, reason, address });
      ctx.audit.record('oauth.revoke', { tokenId: grantId, tokenName: null, address }, { clientId, reason });
    }
    if (answer.failed) {
      ctx.limiter.fail(address);
      ctx.log.log('warn', 'auth.failure', { reason: 'oauth_grant', via: 'oauth', address, method: 'POST', path: TOKEN_PATH });
    } else if (answer.status === 200) {
      ctx.log.log('info', 'oauth.token', { grant: form(text).get('grant_type'), clientId: form(text).get('client_id') });
    }
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    return c.json(answer.body, answer.status);
  });
};

const form = (text: string) => new URLSearchParams(text);
