// The web UI's login exchange (the login store and how the cookie and key authenticate live in
// src/auth/web-logins.ts and src/auth/credential-list.ts). Public routes: login verifies the token it
// is given (rate limited with the guard's failure limiter); logout ends only the login its own
// cookie and key name (and, for a paired device, its device token: see PairingService).
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { WEB_LOGIN_COOKIE, WEB_LOGIN_KEY_HEADER, readCookie } from '../../auth/credential-headers.js';
import { mayHoldWebLogin } from '../../auth/policy.js';
import { WebLoginRequestSchema, WebLoginResultSchema, type WebLoginResult } from '../../auth/shapes.js';
import type { RouteRegistrar } from '../context.js';
import { auditActor } from '../audit.js';
import { errorJson } from '../http-errors.js';
import { errors, jsonContent } from './common.js';

const Login = WebLoginRequestSchema.openapi('WebLogin');
const LoginResult = WebLoginResultSchema.openapi('WebLoginResult');

const login = createRoute({
  method: 'post',
  path: '/auth/session',
  summary: 'Web UI login: exchange a token for an HttpOnly, SameSite=Strict login cookie (no token header needed; rate limited)',
  request: { body: { content: { 'application/json': { schema: Login } }, required: true } },
  responses: {
    200: jsonContent(LoginResult, 'Logged in; Set-Cookie carries the login'),
    400: errors[400],
    401: errors[400],
    403: errors[400],
    429: errors[400],
  },
});

const logout = createRoute({
  method: 'delete',
  path: '/auth/session',
  summary: 'Web UI logout: ends the login named by the cookie and its X-Tether-Session key (no token needed)',
  responses: { 204: { description: 'Logged out' } },
});

/** The Set-Cookie value of a web login (Secure over https). */
export function loginCookie(c: Context, id: string, maxAgeS: number): string {
  return `${WEB_LOGIN_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${secure(c) ? '; Secure' : ''}`;
}

const secure = (c: Context) => new URL(c.req.url).protocol === 'https:';

export const registerWebLogin: RouteRegistrar = (app, ctx) => {
  const { limiter, clientAddress } = ctx;
  const logins = ctx.webLogins;
  ctx.connections.onTokenGone((tokenId) => logins.dropToken(tokenId));

  app.openapi(login, (c) => {
    const { token } = c.req.valid('json');
    const result = ctx.tokens ? ctx.tokens.fresh().verify(token) : null;
    if (!result || !result.ok) {
      const address = clientAddress(c);
      const retryAfter = limiter.fail(address);
      ctx.log.log('warn', 'auth.failure', {
        reason: result ? result.reason : 'no_auth_mode',
        via: 'web-login',
        address,
        method: 'POST',
        path: '/auth/session',
      });
      if (retryAfter) {
        c.header('Retry-After', String(retryAfter));
        return errorJson(c, 429, 'too_many_failures', `too many failed login attempts; retry after ${retryAfter} s`);
      }
      return errorJson(
        c,
        401,
        result ? `${result.reason}_token` : 'auth_disabled',
        result ? 'that token was not accepted' : 'this server runs without authentication',
      );
    }
    const rec = result.record;
    if (!mayHoldWebLogin(rec.kind)) {
      return errorJson(
        c,
        403,
        'share_token_not_a_login',
        'this is a share link token: open its link (/share#<token>) to watch what it shares; it cannot log in',
      );
    }
    // At the global cap this throws a 429 rather than evicting another token's login.
    const { id, key, maxAgeS } = logins.create(rec.id, rec.expiresAt);
    c.header('Set-Cookie', loginCookie(c, id, maxAgeS));
    ctx.log.log('info', 'web.login', { tokenId: rec.id });
    ctx.audit.record('web.login', { tokenId: rec.id, tokenName: rec.name, address: clientAddress(c) }, {});
    const body: WebLoginResult = { id: rec.id, name: rec.name, permissions: rec.permissions, expiresAt: rec.expiresAt, sessionKey: key };
    return c.json(body, 200);
  });

  app.openapi(logout, async (c) => {
    const id = readCookie(c.req.header('cookie'), WEB_LOGIN_COOKIE);
    const key = c.req.header(WEB_LOGIN_KEY_HEADER);
    const tokenId = id && key !== undefined ? logins.lookup(id, key) : null;
    if (id && tokenId) {
      logins.delete(id);
      ctx.log.log('info', 'web.logout', { tokenId });
      const name = ctx.tokens?.current().get(tokenId)?.name ?? null;
      ctx.audit.record('web.logout', { ...auditActor(c, clientAddress), tokenId, tokenName: name }, {});
      const device = await ctx.pairing?.endDeviceIfUnused(tokenId);
      if (device) ctx.log.log('info', 'token.deleted', { tokenId: device.id, name: device.name, why: 'its paired device logged out' });
      // Answered once the end is on disk: a logged-out login must not come back after a restart.
      await logins.persisted();
    }
    c.header('Set-Cookie', `${WEB_LOGIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure(c) ? '; Secure' : ''}`);
    return c.body(null, 204);
  });
};
