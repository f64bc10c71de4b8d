// Security headers written by the Node response itself, so a request served through Node never
// turns Hono's light Response into Web Headers just to add them (that cost several microseconds
// per request: Headers objects, then their conversion back for Node). Same rules as the
// browser-safety middleware's step after the route (which still applies them when the app runs
// without Node, e.g. app.fetch in-process): these four always win over a route's values,
// cache-control defaults to no-store, and the CSP follows the content type.
import http from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';

export const HTML_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** Over TLS: browsers keep to https for this host for a year (no includeSubDomains: other services may share the name). */
export const HSTS = 'max-age=31536000';

const FORCED = new Set(['x-content-type-options', 'referrer-policy', 'x-frame-options', 'content-security-policy', 'strict-transport-security']);

/** `headers` with the security headers applied; `existing` reads headers set earlier with setHeader. */
export function withSecurityHeaders(headers: OutgoingHttpHeaders, existing: (name: string) => unknown, tls = false): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  let type: unknown;
  let cache = false;
  for (const key in headers) {
    const lower = key.toLowerCase();
    if (FORCED.has(lower)) continue;
    if (lower === 'content-type') type = headers[key];
    else if (lower === 'cache-control') cache = true;
    out[key] = headers[key];
  }
  type ??= existing('content-type');
  out['x-content-type-options'] = 'nosniff';
  out['referrer-policy'] = 'no-referrer';
  out['x-frame-options'] = 'DENY';
  if (tls) out['strict-transport-security'] = HSTS;
  out['content-security-policy'] = (typeof type === 'string' ? type : Array.isArray(type) ? String(type[0]) : '').startsWith('text/html') ? HTML_CSP : API_CSP;
  if (!cache && existing('cache-control') === undefined) out['cache-control'] = 'no-store';
  return out;
}

/** http.createServer's `ServerResponse` option: every response except a 101 gets the headers. */
export class SecureServerResponse extends http.ServerResponse {
  /** Every response over TLS carries HSTS, refusals included. */
  private overTls(): boolean {
    return (this.req?.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  }

  override writeHead(statusCode: number, ...rest: unknown[]): this {
    if (statusCode === 101) return super.writeHead(statusCode, ...(rest as []));
    const message = typeof rest[0] === 'string' ? rest[0] : undefined;
    const given = typeof rest[0] === 'string' ? rest[1] : rest[0];
    if (Array.isArray(given)) {
      // Raw [name, value] pairs (nothing here sends them): fall back to setting, then overriding.
      const h: OutgoingHttpHeaders = {};
      for (let i = 0; i + 1 < given.length; i += 2) {
        const [k, v] = [String(given[i]), String(given[i + 1])];
        const prev = h[k];
        h[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
      }
      return super.writeHead(
        statusCode,
        message as string,
        withSecurityHeaders(h, (n) => this.getHeader(n), this.overTls()),
      );
    }
    const headers = withSecurityHeaders((given ?? {}) as OutgoingHttpHeaders, (n) => this.getHeader(n), this.overTls());
    // Headers set earlier with setHeader: a forced one must not survive beside ours.
    for (const name of FORCED) if (this.hasHeader(name)) this.removeHeader(name);
    return message === undefined ? super.writeHead(statusCode, headers) : super.writeHead(statusCode, message, headers);
  }
}
