// The HTTP guard, first in the chain after the browser-safety checks. For every request it:
// 1. takes the canonical path the router will match, 2. asks the policy what is needed,
// 3. extracts one credential, 4. verifies it against the live token file, 5. authorizes.
// It is the only place a permission decision is made; routes read the result from `c.get('auth')`.
import type { Context, MiddlewareHandler } from 'hono';
import { credentialFromAuthorization } from './credentials.js';
import { missingPermissions, requiredPermissions } from './policy.js';
import { describeMalformed } from './token.js';
import { PERMISSIONS, normalizePermissions, type Permission } from './permissions.js';
import type { FailureLimiter } from './limiter.js';
import type { LiveTokens } from './live.js';
import type { RefusalReason } from './verify.js';
import type { TokenRecord } from './record.js';
import { pathInfo } from './request-path.js';
import type { Logger } from '../server/log.js';

export interface AuthInfo {
  /** null only with --no-auth. */
  tokenId: string | null;
  name: string;
  permissions: Permission[];
  expiresAt: string | null;
  via: CredentialSource;
}

export type CredentialSource = 'bearer' | 'basic' | 'cookie' | 'websocket-protocol' | 'ticket' | 'none';

/** What an extra extractor (cookie session, WebSocket protocol, ticket) can present. */
export type Presented =
  | { kind: 'token'; token: string; via: CredentialSource }
  | { kind: 'token-id'; tokenId: string; via: CredentialSource }
  | { kind: 'invalid'; problem: string; via: CredentialSource };

export type Extractor = (c: Context) => Presented | null;

export interface GuardOptions {
  /** null = --no-auth (loopback only; enforced by `serve`). */
  tokens: LiveTokens | null;
  limiter: FailureLimiter;
  log: Logger;
  /** Tried in order when there is no Authorization header. */
  extractors?: Extractor[];
  /** Called on every authenticated request (last-use tracking). */
  onAuthenticated?: (record: TokenRecord) => void;
  clientAddress: (c: Context) => string;
}

export const AUTH_REALM = 'Bearer realm="tether"';

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
  const extractors = opts.extractors ?? [];
  return async (c, next) => {
    const info = pathInfo(c.req.raw);
    if (!info.ok) return c.json(errorBody('bad_path', `bad request path: ${info.problem}`), 400);
    // Any mention of websocket counts: stricter than the ws library's own check, never looser.
    const upgrade = /websocket/i.test(c.req.header('upgrade') ?? '');
    const decision = requiredPermissions({ method: c.req.method, path: c.req.path, upgrade });
    if (decision.kind === 'method_not_allowed') {
      c.header('Allow', decision.allowed.join(', '));
      return c.json(errorBody('method_not_allowed', `method ${c.req.method} is not supported; use one of ${decision.allowed.join(', ')}`), 405);
    }
    if (decision.kind === 'public') return next();

    if (opts.tokens === null) {
      c.set('auth', { tokenId: null, name: 'no-auth', permissions: [...PERMISSIONS], expiresAt: null, via: 'none' } satisfies AuthInfo);
      return next();
    }

    const presented = present(c, extractors);
    const index = opts.tokens.current();
    let record: TokenRecord | undefined;
    let refusal: { reason: RefusalReason; message: string } | undefined;
    if (presented === null) {
      refusal = { reason: 'missing', message: REFUSAL_MESSAGE.missing };
    } else if (presented.kind === 'invalid') {
      refusal = { reason: 'malformed', message: `bad credentials: ${presented.problem}` };
    } else if (presented.kind === 'token') {
      const r = index.verify(presented.token);
      if (r.ok) record = r.record;
      else refusal = { reason: r.reason, message: r.reason === 'malformed' && r.detail ? `${REFUSAL_MESSAGE.malformed}: ${describeMalformed(r.detail)}` : REFUSAL_MESSAGE[r.reason] };
    } else {
      const rec = index.get(presented.tokenId);
      if (rec && index.isActive(rec.id)) record = rec;
      else refusal = { reason: rec ? 'expired' : 'unknown', message: rec ? REFUSAL_MESSAGE.expired : 'the token behind this credential was deleted' };
    }

    if (!record) {
      const address = opts.clientAddress(c);
      // Only a presented, wrong credential is an attempt; a request with none cannot guess anything.
      const retryAfter = presented === null ? 0 : opts.limiter.fail(address);
      opts.log.log('warn', 'auth.failure', {
        reason: refusal!.reason,
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
      c.header('WWW-Authenticate', AUTH_REALM);
      return c.json(errorBody(`${refusal!.reason}_token`, refusal!.message), 401);
    }

    const missing = missingPermissions(decision.permissions, record.permissions);
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
    c.set('auth', {
      tokenId: record.id,
      name: record.name,
      permissions: record.permissions,
      expiresAt: record.expiresAt,
      via: presented!.via,
    } satisfies AuthInfo);
    opts.onAuthenticated?.(record);
    return next();
  };
}

function present(c: Context, extractors: Extractor[]): Presented | null {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const cred = credentialFromAuthorization(header);
    if (cred.kind === 'invalid') return { kind: 'invalid', problem: cred.problem, via: 'bearer' };
    if (cred.kind !== 'none') return { kind: 'token', token: cred.token, via: cred.kind };
  }
  for (const ex of extractors) {
    const p = ex(c);
    if (p) return p;
  }
  return null;
}

declare module 'hono' {
  interface ContextVariableMap {
    auth: AuthInfo;
  }
}
