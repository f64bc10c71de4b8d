// Browser safety, before authentication: a Host allowlist against DNS rebinding, an Origin check
// (cross-origin requests only from --cors origins, which also covers WebSockets, which have no CORS),
// CORS headers for those origins (never `*`), and security headers on every response.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { API_CSP, HSTS, HTML_CSP, SecureServerResponse } from './security-headers.js';

export interface BrowserSafetyOptions {
  /** Lower-case host names (no port) accepted in the Host header. */
  allowedHosts: ReadonlySet<string>;
  /** Exact origins (scheme://host[:port]) allowed to make cross-origin requests. */
  corsOrigins: ReadonlySet<string>;
  /** 'http' or 'https': to recognise same-origin requests. */
  scheme: 'http' | 'https';
}

/** Host name without port, lower-case; brackets kept for IPv6 literals. */
export function hostName(hostHeader: string): string | null {
  const h = hostHeader.trim().toLowerCase();
  if (h === '') return null;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return null;
    const rest = h.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return h.slice(0, end + 1);
  }
  const m = /^([a-z0-9.-]+)(:\d{1,5})?$/.exec(h);
  if (!m) return null;
  return m[1]!.replace(/\.$/, '');
}

function json(code: string, message: string, status: number, extra: Record<string, string>): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', ...extra },
  });
}

export function browserSafety(opts: BrowserSafetyOptions): MiddlewareHandler {
  // Every response over TLS carries HSTS, refusals included.
  const tlsHeaders: Record<string, string> = opts.scheme === 'https' ? { 'strict-transport-security': HSTS } : {};
  // Not async: a refusal is returned as it is (Hono's compose awaits whatever a middleware returns),
  // and an admitted request returns next()'s promise itself instead of wrapping it in another.
  const check = (c: Context, next: Next): Response | Promise<void | Response> => {
    const hostHeader = c.req.header('host');
    const host = hostHeader === undefined ? null : hostName(hostHeader);
    if (host === null || !opts.allowedHosts.has(host)) {
      const shown = hostHeader === undefined ? '(none)' : JSON.stringify(hostHeader.slice(0, 100));
      const hint = host ? `; start tether with --allowed-host ${host} to admit it` : '';
      return json('host_not_allowed', `Host header ${shown} is not allowed${hint}`, 403, tlsHeaders);
    }
    const origin = c.req.header('origin');
    const sameOrigin = origin !== undefined && origin.toLowerCase() === `${opts.scheme}://${hostHeader!.trim().toLowerCase()}`;
    const corsAllowed = origin !== undefined && opts.corsOrigins.has(origin);
    if (origin !== undefined && !sameOrigin && !corsAllowed) {
      return json(
        'origin_not_allowed',
        `requests from origin ${JSON.stringify(origin.slice(0, 200))} are not allowed; start tether with --cors ${origin.slice(0, 200)} to allow it`,
        403,
        tlsHeaders,
      );
    }
    if (corsAllowed && c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      // Preflight: answered here, without a token (browsers never send one on a preflight).
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
          // If-Match / If-None-Match: conditional file writes (PUT /file/content, DELETE /file).
          'access-control-allow-headers': 'Authorization, Content-Type, If-Match, If-None-Match',
          'access-control-max-age': '600',
          vary: 'Origin',
          ...tlsHeaders,
        },
      });
    }
    // Served through Node without CORS (nearly every request): nothing to do after the route, so
    // no extra async step (the response object writes the security headers: security-headers.ts).
    if (!corsAllowed && servedByNode(c)) return next();
    return after(c, next, corsAllowed ? origin : undefined);
  };
  return check as MiddlewareHandler;

  async function after(c: Context, next: Next, corsOrigin: string | undefined): Promise<void> {
    await next();
    if (corsOrigin !== undefined) {
      const origin = corsOrigin;
      const h = c.res.headers;
      h.set('access-control-allow-origin', origin);
      h.append('vary', 'Origin');
      // A file's version (GET /file/content, PUT), which a conditional write sends back.
      h.set('access-control-expose-headers', 'ETag');
    }
    // Served through Node: the response object writes the security headers (security-headers.ts),
    // cheaper than turning the response's headers into Web Headers here.
    if (servedByNode(c)) return;
    // A 101 upgrade response has immutable headers in some adapters; only touch ordinary responses.
    if (c.res.status === 101) return;
    const h = c.res.headers;
    h.set('x-content-type-options', 'nosniff');
    h.set('referrer-policy', 'no-referrer');
    h.set('x-frame-options', 'DENY');
    if (opts.scheme === 'https') h.set('strict-transport-security', HSTS);
    const type = h.get('content-type') ?? '';
    h.set('content-security-policy', type.startsWith('text/html') ? HTML_CSP : API_CSP);
    if (!h.has('cache-control')) h.set('cache-control', 'no-store');
  }
}

function servedByNode(c: Context): boolean {
  return (c.env as { outgoing?: unknown } | undefined)?.outgoing instanceof SecureServerResponse;
}
