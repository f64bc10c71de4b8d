// Web UI sessions: `POST /auth/session` exchanges a token for an HttpOnly, SameSite=Strict cookie
// bound to that token's id, so deleting or expiring the token ends the web session at once (the
// guard re-checks the token behind the cookie on every request). Sessions live in memory: a server
// restart logs web users out.
//
// Cookies are not scoped by port: any other web server on this host name that the user visits
// receives the cookie too. So the cookie alone authenticates nothing: every request must also carry
// the session key returned by the login, in the `X-Tether-Session` header (or, for a WebSocket,
// which cannot set headers, as a `tether.session.<key>` subprotocol offer; the server echoes only
// `tether`). The page keeps the key in sessionStorage, which is per origin, port included.
// Cookie-authenticated writes and WebSocket upgrades must also carry an Origin header
// (browser-safety has already checked that it is this server's own origin).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Extractor, Presented } from '../auth/middleware.js';
import type { FailureLimiter } from '../auth/limiter.js';
import type { ServerContext } from './context.js';
import { errorJson } from './errors.js';
import { errors, jsonContent } from './routes/common.js';

export const SESSION_COOKIE = 'tether_session';
export const SESSION_KEY_HEADER = 'x-tether-session';
export const SESSION_KEY_PROTOCOL_PREFIX = 'tether.session.';
const MAX_SESSIONS = 1000;
const MAX_AGE_MS = 12 * 3600_000;

interface WebSession {
  tokenId: string;
  expiresAt: number;
  /** SHA-256 of the session key the page must send with the cookie. */
  keyHash: Buffer;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class WebSessions {
  private readonly sessions = new Map<string, WebSession>();

  constructor(private readonly now: () => number = Date.now) {}

  create(tokenId: string, tokenExpiresAt: string | null): { id: string; key: string; maxAgeS: number } {
    const id = randomBytes(32).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(this.now() + MAX_AGE_MS, tokenExpiresAt ? Date.parse(tokenExpiresAt) : Infinity);
    this.sessions.set(id, { tokenId, expiresAt, keyHash: sha256(key) });
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    return { id, key, maxAgeS: Math.max(1, Math.floor((expiresAt - this.now()) / 1000)) };
  }

  /** The token id behind a live session whose key matches, else null. */
  lookup(id: string, key: string): string | null {
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return timingSafeEqual(s.keyHash, sha256(key)) ? s.tokenId : null;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  dropToken(tokenId: string): void {
    for (const [id, s] of this.sessions) if (s.tokenId === tokenId) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

export function readCookie(c: Context, name: string): string | undefined {
  const header = c.req.header('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function sessionKey(c: Context, upgrade: boolean): string | undefined {
  const header = c.req.header(SESSION_KEY_HEADER);
  if (header !== undefined) return header;
  if (!upgrade) return undefined;
  const offer = (c.req.header('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith(SESSION_KEY_PROTOCOL_PREFIX));
  return offer?.slice(SESSION_KEY_PROTOCOL_PREFIX.length);
}

export function cookieExtractor(sessions: WebSessions): Extractor {
  return (c): Presented | null => {
    const id = readCookie(c, SESSION_COOKIE);
    if (id === undefined) return null;
    const upgrade = /websocket/i.test(c.req.header('upgrade') ?? '');
    if ((!SAFE.has(c.req.method) || upgrade) && !c.req.header('origin')) {
      return { kind: 'invalid', problem: 'a cookie-authenticated write or WebSocket must carry an Origin header', via: 'cookie' };
    }
    const key = sessionKey(c, upgrade);
    if (key === undefined) {
      return { kind: 'invalid', problem: `the session cookie must come with the ${SESSION_KEY_HEADER} header from the login response`, via: 'cookie' };
    }
    const tokenId = sessions.lookup(id, key);
    if (!tokenId) return { kind: 'invalid', problem: 'the web session has ended; log in again', via: 'cookie' };
    return { kind: 'token-id', tokenId, via: 'cookie' };
  };
}

const Login = z.object({ token: z.string().min(1).max(512) }).strict().openapi('WebLogin');
const LoginResult = z
  .object({
    id: z.string(),
    name: z.string(),
    permissions: z.array(z.string()),
    expiresAt: z.string().nullable(),
    sessionKey: z.string().openapi({ description: `Send with the cookie on every request as the ${SESSION_KEY_HEADER} header (WebSockets: subprotocol ${SESSION_KEY_PROTOCOL_PREFIX}<key>)` }),
  })
  .openapi('WebSession');

const login = createRoute({
  method: 'post',
  path: '/auth/session',
  summary: 'Web UI login: exchange a token for an HttpOnly, SameSite=Strict session cookie (no token header needed; rate limited)',
  request: { body: { content: { 'application/json': { schema: Login } }, required: true } },
  responses: { 200: jsonContent(LoginResult, 'Logged in; Set-Cookie carries the session'), 400: errors[400], 401: errors[400], 429: errors[400] },
});

const logout = createRoute({
  method: 'delete',
  path: '/auth/session',
  summary: 'Web UI logout: ends the session named by the cookie and its X-Tether-Session key (no token needed)',
  responses: { 204: { description: 'Logged out' } },
});

export function webSessionRegistrar(sessions: WebSessions, limiter: FailureLimiter, clientAddress: (c: Context) => string) {
  return (app: OpenAPIHono, ctx: ServerContext): void => {
    ctx.extractors.push(cookieExtractor(sessions));
    ctx.connections.onTokenGone((tokenId) => sessions.dropToken(tokenId));
    const secure = (c: Context) => new URL(c.req.url).protocol === 'https:';

    app.openapi(login, (c) => {
      const { token } = c.req.valid('json');
      const result = ctx.tokens ? ctx.tokens.current().verify(token) : null;
      if (!result || !result.ok) {
        const address = clientAddress(c);
        const retryAfter = limiter.fail(address);
        ctx.log.log('warn', 'auth.failure', { reason: result ? result.reason : 'no_auth_mode', via: 'web-login', address, method: 'POST', path: '/auth/session' });
        if (retryAfter) {
          c.header('Retry-After', String(retryAfter));
          return errorJson(c, 429, 'too_many_failures', `too many failed login attempts; retry after ${retryAfter} s`);
        }
        return errorJson(c, 401, result ? `${result.reason}_token` : 'auth_disabled', result ? 'that token was not accepted' : 'this server runs without authentication');
      }
      const rec = result.record;
      const { id, key, maxAgeS } = sessions.create(rec.id, rec.expiresAt);
      c.header('Set-Cookie', `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure(c) ? '; Secure' : ''}`);
      ctx.log.log('info', 'web.login', { tokenId: rec.id });
      return c.json({ id: rec.id, name: rec.name, permissions: rec.permissions, expiresAt: rec.expiresAt, sessionKey: key }, 200);
    });

    app.openapi(logout, (c) => {
      const id = readCookie(c, SESSION_COOKIE);
      const key = c.req.header(SESSION_KEY_HEADER);
      if (id && key !== undefined && sessions.lookup(id, key)) sessions.delete(id);
      c.header('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure(c) ? '; Secure' : ''}`);
      return c.body(null, 204);
    });
  };
}
