// The HTTP guard, first in the chain after the browser-safety checks. For every request it:
// 1. takes the canonical path the router will match, 2. refuses a token in the URL, 3. asks the
// policy what is needed, 4. takes one credential from the declared list (credential-list.ts),
// 5. verifies it against the live token file, 6. authorizes.
// It is the only place a permission decision is made; routes read the result from `c.get('auth')`.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { isWebSocketUpgrade, tokenInQuery, WS_PROTOCOL, AUTH_PROTOCOL_PREFIX } from './credential-headers.js';
import { presentedCredential, type CredentialSource, type CredentialStores, type RequestView } from './credential-list.js';
import { audienceAllows, missingPermissions, requiredPermissions, shareDecision, type ShareTarget } from './policy.js';
import { isMcpForward } from './in-process.js';
import type { AccessTokens } from './oauth/access-tokens.js';
import { describeMalformed } from './token-format.js';
import { PERMISSIONS, normalizePermissions, type Permission } from './permissions.js';
import type { FailureLimiter } from './limiter.js';
import type { LiveTokens } from './live-tokens.js';
import type { RefusalReason } from './verify.js';
import { VerifyMemo } from './verify-memo.js';
import type { TokenRecord } from './shapes.js';
import { pathInfo } from './router-path.js';
import { scopeRefusal } from './scope.js';
import type { Logger } from '../log.js';

export interface AuthInfo {
  /** null only with --no-auth. */
  tokenId: string | null;
  name: string;
  permissions: Permission[];
  expiresAt: string | null;
  via: CredentialSource;
  /** The directories the token is confined to (absolute real paths); null: unscoped. Every route
   * that touches a place reads it through src/server/place.ts. */
  scopes: readonly string[] | null;
  /** Present only for a share token: the one terminal or session it may watch. */
  share?: ShareTarget;
}

export type { CredentialSource };

export interface GuardOptions {
  /** null = --no-auth (loopback only; enforced by `serve`). */
  tokens: LiveTokens | null;
  limiter: FailureLimiter;
  log: Logger;
  /** Web logins and WebSocket tickets, consulted by the credential list. */
  stores?: CredentialStores;
  /** Called on every authenticated request with the client's address (last-use tracking). */
  onAuthenticated?: (record: TokenRecord, address: string, now: number) => void;
  clientAddress: (c: Context) => string;
  /** The connection a request came on (its socket; undefined in-process): keys the verify memo. */
  connectionOf?: (c: Context) => object | undefined;
  /** The request's one Authorization header exactly as sent (undefined when it sent none or
   * several, or in-process): the verify memo's key. */
  authorizationOf?: (c: Context) => string | undefined;
  /** Real path of the project: a scoped token whose scopes do not meet it reaches only its own identity. */
  projectDir: string;
  /** OAuth access tokens (src/auth/oauth/), consulted for a bearer token the token file does not know. */
  oauthAccess?: AccessTokens;
}

export const AUTH_REALM = 'Bearer realm="tether"';

const TOKEN_IN_URL_MESSAGE =
  'a token is never accepted in a URL (URLs end up in logs and history); send "Authorization: Bearer <token>", ' +
  `or for a WebSocket offer the subprotocols "${WS_PROTOCOL}, ${AUTH_PROTOCOL_PREFIX}<token>" or use a one-time ?ticket= from POST /pty/:id/ticket`;

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

const REFUSAL_MESSAGE: Record<RefusalReason, string> = {
  missing: 'authentication required: send "Authorization: Bearer <token>" (create a token with `tether auth token create`)',
  malformed: 'the token is malformed',
  unknown: 'the token is not recognised (deleted, or never issued here)',
  expired: 'the token has expired; create a new one with `tether auth token create`',
};

export function authGuard(opts: GuardOptions): MiddlewareHandler {
  const stores = opts.stores ?? {};
  const memo = new VerifyMemo();
  // Not async (nothing in it waits): an answer is returned as it is and an admitted request returns
  // next()'s own promise; Hono's compose awaits either, and catches a throw the same way.
  const guard = (c: Context, next: Next): Response | Promise<void | Response> => {
    const info = pathInfo(c.req.raw);
    if (!info.ok) return c.json(errorBody('bad_path', `bad request path: ${info.problem}`), 400);
    // On every route, public ones included, and whatever else the request presents: a token in a
    // URL is already in some log, so accepting the request would teach clients to keep doing it.
    if (tokenInQuery(c.req.url)) return c.json(errorBody('token_in_url', TOKEN_IN_URL_MESSAGE), 400);
    const upgrade = isWebSocketUpgrade(c.req.header('upgrade'));
    const decision = requiredPermissions({ method: c.req.method, path: c.req.path, upgrade });
    if (decision.kind === 'method_not_allowed') {
      c.header('Allow', decision.allowed.join(', '));
      return c.json(errorBody('method_not_allowed', `method ${c.req.method} is not supported; use one of ${decision.allowed.join(', ')}`), 405);
    }
    if (decision.kind === 'public') return next();

    if (opts.tokens === null) {
      c.set('auth', { tokenId: null, name: 'no-auth', permissions: [...PERMISSIONS], expiresAt: null, via: 'none', scopes: null } satisfies AuthInfo);
      return next();
    }

    // One clock reading for the whole decision: the staleness check, expiry and last use.
    const now = Date.now();
    let index = opts.tokens.current(now);
    const connection = opts.connectionOf?.(c);
    // A keep-alive connection sending the header it proved last time (verify-memo.ts).
    const authorization = opts.authorizationOf?.(c);
    const proved = memo.lookup(connection, index, authorization, now);
    const presented = proved ? null : presentedCredential(requestView(c, upgrade), stores);
    let record: TokenRecord | undefined = proved?.record;
    /** Verified against the token file from the Authorization header: what the memo may keep. */
    let fromHeader = false;
    let refusal: { reason: RefusalReason; message: string } | undefined;
    /** The token behind a refused credential, when it is known (expired, or deleted under a login). */
    let refusedId: string | undefined;
    if (proved) {
      // Admitted by the memo: what the header proved on this connection, still good now.
    } else if (presented === null) {
      refusal = { reason: 'missing', message: REFUSAL_MESSAGE.missing };
    } else if (presented.kind === 'invalid') {
      refusal = { reason: 'malformed', message: `bad credentials: ${presented.problem}` };
    } else if (presented.kind === 'token') {
      let r = index.verify(presented.token, now);
      // Not in the token file: perhaps an OAuth access token, good while its grant is.
      const access = !r.ok && r.reason === 'unknown' && presented.via === 'bearer' ? opts.oauthAccess?.lookup(presented.token) : undefined;
      // A token made within the last stat interval (live-tokens.ts) must not be refused for that: a
      // token neither store knows re-checks the file first (one stat, only on this failure path).
      if (!r.ok && r.reason === 'unknown' && !access && opts.tokens.refresh()) {
        index = opts.tokens.current(now);
        r = index.verify(presented.token, now);
      }
      // The same for a grant issued an instant ago.
      if (access && !index.get(access.grantId) && opts.tokens.refresh()) index = opts.tokens.current(now);
      if (r.ok) {
        record = r.record;
        // Only the token file's verdict on the Authorization header is remembered (not an OAuth
        // access token's, which has an expiry of its own): the header alone decided it.
        fromHeader = presented.via === 'bearer' || presented.via === 'basic';
      } else if (access && access.audience !== `${new URL(c.req.url).origin}/mcp`) {
        refusedId = access.grantId;
        refusal = { reason: 'unknown', message: `this OAuth access token was issued for ${access.audience}, not for this server's address` };
      } else if (access && index.isActive(access.grantId, now) && index.get(access.grantId)?.kind === 'oauth') record = index.get(access.grantId);
      else if (access) {
        refusedId = access.grantId;
        refusal = { reason: 'unknown', message: 'the OAuth grant behind this access token was revoked or has expired; authorize the client again' };
      } else {
        refusedId = r.record?.id;
        refusal = {
          reason: r.reason,
          message: r.reason === 'malformed' && r.detail ? `${REFUSAL_MESSAGE.malformed}: ${describeMalformed(r.detail)}` : REFUSAL_MESSAGE[r.reason],
        };
      }
    } else {
      const rec = index.get(presented.tokenId);
      if (rec && index.isActive(rec.id, now)) record = rec;
      else {
        refusedId = presented.tokenId;
        refusal = { reason: rec ? 'expired' : 'unknown', message: rec ? REFUSAL_MESSAGE.expired : 'the token behind this credential was deleted' };
      }
    }

    if (!record) {
      const address = opts.clientAddress(c);
      // Only a presented, wrong credential is an attempt; a request with none cannot guess anything.
      const retryAfter = presented === null ? 0 : opts.limiter.fail(address);
      opts.log.log('warn', 'auth.failure', {
        reason: refusal!.reason,
        ...(refusedId ? { tokenId: refusedId } : {}),
        via: presented?.via ?? 'none',
        address,
        method: c.req.method,
        path: c.req.path,
        ...(retryAfter ? { throttled: true } : {}),
      });
      if (retryAfter) {
        c.header('Retry-After', String(retryAfter));
        return c.json(errorBody('too_many_failures', `too many failed authentication attempts from this address; retry after ${retryAfter} s`), 429);
      }
      c.header('WWW-Authenticate', challenge(c));
      return c.json(errorBody(`${refusal!.reason}_token`, refusal!.message), 401);
    }

    // An OAuth grant's tokens are for /mcp alone (RFC 8707 audience binding; src/auth/policy.ts).
    if (!audienceAllows(record.kind, c.req.path, isMcpForward(c.env))) {
      return c.json(
        errorBody(
          'wrong_audience',
          `an OAuth access token (grant "${record.name}") is accepted only on /mcp, the resource it was issued for; use a token from \`tether auth token create\` for ${c.req.path}`,
        ),
        403,
      );
    }
    // A share token is decided by its own table (policy.ts), not by what its permissions would allow.
    const share = record.kind === 'share' ? shareDecision(record.target, { method: c.req.method, path: c.req.path, upgrade }) : null;
    if (share && !share.ok) return c.json(errorBody(share.code, share.message), share.status);
    const missing = missingPermissions(share ? share.needs : decision.permissions, record.permissions);
    if (missing.length > 0) {
      return c.json(
        errorBody(
          'insufficient_permissions',
          `token "${record.name}" lacks ${missing.join(' and ')} permission, needed for ${upgrade ? 'a WebSocket upgrade to' : c.req.method} ${c.req.path}; ` +
            `create a token with \`tether auth token create --permissions ${normalizePermissions([...record.permissions, ...missing]).join(',')}\``,
        ),
        403,
      );
    }
    // Permission granted; now place (src/auth/scope.ts): a scoped token may use only the routes that
    // confine what they touch to its scopes, and only where its scopes meet the project.
    const scopes = record.scopes ?? null;
    if (scopes !== null) {
      const refused = scopeRefusal({ method: c.req.method, path: c.req.path, scopes, projectDir: opts.projectDir, tokenName: record.name });
      if (refused) return c.json(errorBody(refused.code, refused.message), 403);
    }
    // A hit reuses what this code built when the header was first proved on this connection.
    const auth: AuthInfo =
      proved?.info ??
      Object.freeze({
        tokenId: record.id,
        name: record.name,
        permissions: record.permissions,
        expiresAt: record.expiresAt,
        via: presented!.via,
        scopes,
        ...(share && record.target ? { share: record.target } : {}),
      });
    c.set('auth', auth);
    const address = proved?.address ?? opts.clientAddress(c);
    if (fromHeader && authorization !== undefined) memo.remember(connection, index, authorization, { record, info: auth, address });
    if (opts.onAuthenticated) opts.onAuthenticated(record, address, now);
    return next();
  };
  return guard as MiddlewareHandler;
}

/** The 401 challenge; on /mcp it also names the RFC 9728 metadata, where OAuth clients start. */
function challenge(c: Context): string {
  if (c.req.path !== '/mcp') return AUTH_REALM;
  return `${AUTH_REALM}, resource_metadata="${new URL(c.req.url).origin}/.well-known/oauth-protected-resource/mcp"`;
}

function requestView(c: Context, upgrade: boolean): RequestView {
  return { method: c.req.method, path: c.req.path, url: c.req.url, upgrade, header: (name) => c.req.header(name) };
}

declare module 'hono' {
  interface ContextVariableMap {
    auth: AuthInfo;
  }
}
