// Pulls presented credentials out of request headers. Pure: it never verifies anything.
// Accepted in Authorization: `Bearer <token>`, `Basic base64(user:token)` (any user name;
// curl -u x:TOKEN). Anything else in Authorization is malformed, never ignored. The order in which
// credential sources are tried is declared once, in credential-list.ts.

export type Credential = { kind: 'none' } | { kind: 'bearer' | 'basic'; token: string } | { kind: 'invalid'; problem: string };

const MAX_HEADER = 4096;

/** The WebSocket subprotocol the server selects; see README "WebSocket credentials". */
export const WS_PROTOCOL = 'tether';
/** Subprotocol that carries a token on a WebSocket upgrade: `tether.auth.<TOKEN>`. */
export const AUTH_PROTOCOL_PREFIX = `${WS_PROTOCOL}.auth.`;
/** The web login's cookie, its key header, and the key's WebSocket subprotocol form. */
export const WEB_LOGIN_COOKIE = 'tether_session';
export const WEB_LOGIN_KEY_HEADER = 'x-tether-session';
export const WEB_LOGIN_KEY_PROTOCOL_PREFIX = `${WS_PROTOCOL}.session.`;

export function credentialFromAuthorization(header: string | undefined | null): Credential {
  if (header === undefined || header === null) return { kind: 'none' };
  if (header.length > MAX_HEADER) return { kind: 'invalid', problem: 'Authorization header is too long' };
  const m = /^([A-Za-z]+) +([^\s]+) *$/.exec(header);
  if (!m) return { kind: 'invalid', problem: 'Authorization header must be "Bearer <token>" or "Basic <base64(user:token)>"' };
  const scheme = m[1]!.toLowerCase();
  const value = m[2]!;
  if (scheme === 'bearer') return { kind: 'bearer', token: value };
  if (scheme === 'basic') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return { kind: 'invalid', problem: 'Basic credentials are not valid base64' };
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return { kind: 'invalid', problem: 'Basic credentials must be user:token' };
    return { kind: 'basic', token: decoded.slice(colon + 1) };
  }
  return { kind: 'invalid', problem: `unsupported Authorization scheme "${m[1]}"; use Bearer or Basic` };
}

/**
 * The one WebSocket-upgrade test, shared by the policy input, the credential sources and the
 * terminal route. Any mention of websocket counts: stricter than the ws library's own check, never
 * looser, so nothing the library would upgrade escapes the execute rule.
 */
export function isWebSocketUpgrade(upgradeHeader: string | undefined | null): boolean {
  return upgradeHeader !== undefined && upgradeHeader !== null && /websocket/i.test(upgradeHeader);
}

/** The offers in a `Sec-WebSocket-Protocol` header, trimmed, empty ones dropped. */
export function protocolOffers(header: string | undefined | null): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** Anything shaped like a tether token, anywhere in a query key or value. */
const TOKEN_IN_TEXT = /tether_[0-9A-Za-z]{28}/;
const TOKEN_PARAM = /^(token|access_token)$/i;

/**
 * Whether a URL's query carries a long-lived token (a `token`/`access_token` parameter, or any
 * value or key shaped like a tether token). Such a request is refused whatever else it presents:
 * URLs end up in logs, history and Referer headers.
 */
export function tokenInQuery(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const query = url.slice(q + 1).split('#', 1)[0]!;
  // Cheap pre-check on the raw text (also catches a token hidden in percent-encoding below).
  if (TOKEN_IN_TEXT.test(query)) return true;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return false;
  }
  for (const [key, value] of params) {
    if (TOKEN_PARAM.test(key) || TOKEN_IN_TEXT.test(value) || TOKEN_IN_TEXT.test(key)) return true;
  }
  return false;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
