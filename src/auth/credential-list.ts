// Every way a request can present a credential, declared once, in the order the guard tries them.
// The first source that finds anything decides: a request never mixes credentials, and a source
// that finds a malformed credential refuses the request rather than letting a later one answer.
//
// 1. `Authorization: Bearer <token>` or `Basic base64(user:token)` (CLI clients, curl -u x:TOKEN).
// 2. The web login cookie with its key (header `X-Tether-Session`, or for a WebSocket the
//    subprotocol offer `tether.session.<key>`); cookie-authenticated writes and upgrades must also
//    carry an Origin (browser-safety has already checked that it is this server's own origin). On
//    a WebSocket upgrade that offers no key but a token (3.), the cookie is ambient and skipped.
// 3. On a WebSocket upgrade, the subprotocol offer `tether, tether.auth.<token>`; the server
//    selects and echoes only `tether`, so the secret never appears in the response.
// 4. On a WebSocket upgrade of the path it was issued for, a one-time `?ticket=` (tickets.ts).
//
// A long-lived token in a URL is never a credential: the guard refuses such a request (400) before
// consulting this list.
import {
  AUTH_PROTOCOL_PREFIX,
  WEB_LOGIN_COOKIE,
  WEB_LOGIN_KEY_HEADER,
  WEB_LOGIN_KEY_PROTOCOL_PREFIX,
  WS_PROTOCOL,
  credentialFromAuthorization,
  protocolOffers,
  readCookie,
} from './credential-headers.js';
import type { TicketStore } from './tickets.js';
import type { WebLogins } from './web-logins.js';

export type CredentialSource = 'bearer' | 'basic' | 'cookie' | 'websocket-protocol' | 'ticket' | 'none';

/** What a source found: a token to verify, the id of a token already proven, or a refusal. */
export type Presented =
  | { kind: 'token'; token: string; via: CredentialSource }
  | { kind: 'token-id'; tokenId: string; via: CredentialSource }
  | { kind: 'invalid'; problem: string; via: CredentialSource };

/** The parts of a request the sources read. */
export interface RequestView {
  method: string;
  /** Canonical path, as the router matches it. */
  path: string;
  url: string;
  upgrade: boolean;
  header(name: string): string | undefined;
}

/** Server-held state some sources consult; absent ones find nothing. */
export interface CredentialStores {
  webLogins?: WebLogins | undefined;
  tickets?: TicketStore | undefined;
}

type Source = (req: RequestView, stores: CredentialStores) => Presented | null;

const invalid = (problem: string, via: CredentialSource): Presented => ({ kind: 'invalid', problem, via });
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const authorizationHeader: Source = (req) => {
  const cred = credentialFromAuthorization(req.header('authorization'));
  if (cred.kind === 'none') return null;
  if (cred.kind === 'invalid') return invalid(cred.problem, 'bearer');
  return { kind: 'token', token: cred.token, via: cred.kind };
};

const webLoginCookie: Source = (req, { webLogins }) => {
  const id = readCookie(req.header('cookie'), WEB_LOGIN_COOKIE);
  if (id === undefined || !webLogins) return null;
  if ((!SAFE_METHODS.has(req.method) || req.upgrade) && !req.header('origin')) {
    return invalid('a cookie-authenticated write or WebSocket must carry an Origin header', 'cookie');
  }
  let key = req.header(WEB_LOGIN_KEY_HEADER);
  if (key === undefined && req.upgrade) {
    key = protocolOffers(req.header('sec-websocket-protocol'))
      .find((p) => p.startsWith(WEB_LOGIN_KEY_PROTOCOL_PREFIX))
      ?.slice(WEB_LOGIN_KEY_PROTOCOL_PREFIX.length);
  }
  if (key === undefined) {
    // A browser sends the cookie with every WebSocket to this host. A page that offers a token of
    // its own instead (the share page) did not choose the cookie: it is ambient, and the offered
    // token decides (source 3).
    if (req.upgrade && protocolOffers(req.header('sec-websocket-protocol')).some((p) => p.startsWith(AUTH_PROTOCOL_PREFIX))) return null;
    return invalid(`the session cookie must come with the ${WEB_LOGIN_KEY_HEADER} header from the login response`, 'cookie');
  }
  const tokenId = webLogins.lookup(id, key);
  if (!tokenId) return invalid('the web session has ended; log in again', 'cookie');
  return { kind: 'token-id', tokenId, via: 'cookie' };
};

const websocketProtocol: Source = (req) => {
  const offers = protocolOffers(req.header('sec-websocket-protocol'));
  const auth = offers.filter((p) => p.startsWith(AUTH_PROTOCOL_PREFIX));
  if (auth.length === 0) return null;
  const via = 'websocket-protocol';
  if (!req.upgrade) return invalid('a token in Sec-WebSocket-Protocol is accepted on WebSocket upgrades only', via);
  if (auth.length > 1) return invalid(`offer exactly one "${AUTH_PROTOCOL_PREFIX}<token>" subprotocol`, via);
  if (!offers.includes(WS_PROTOCOL)) {
    return invalid(`offer the subprotocol "${WS_PROTOCOL}" alongside "${AUTH_PROTOCOL_PREFIX}<token>" (the server selects "${WS_PROTOCOL}")`, via);
  }
  return { kind: 'token', token: auth[0]!.slice(AUTH_PROTOCOL_PREFIX.length), via };
};

const ticket: Source = (req, { tickets }) => {
  const q = req.url.indexOf('?');
  if (q === -1 || !tickets) return null;
  const all = new URLSearchParams(req.url.slice(q + 1).split('#', 1)[0]).getAll('ticket');
  if (all.length === 0) return null;
  const via = 'ticket';
  if (all.length > 1) {
    for (const t of all) tickets.redeem(t, null);
    return invalid('pass one ticket', via);
  }
  const onUpgrade = req.method === 'GET' && req.upgrade;
  // Redeeming consumes the ticket whatever the outcome, so a leaked one is good for one try.
  const r = tickets.redeem(all[0]!, onUpgrade ? req.path : null);
  if (!r.ok) return invalid(onUpgrade ? r.problem : 'a ticket is accepted only on the WebSocket upgrade it was issued for (GET /pty/:id/connect)', via);
  if (r.tokenId === null) return invalid('the ticket was issued without a token', via);
  return { kind: 'token-id', tokenId: r.tokenId, via };
};

/** The declared order. */
export const CREDENTIAL_SOURCES: ReadonlyArray<readonly [name: string, source: Source]> = [
  ['authorization header', authorizationHeader],
  ['web login cookie + key', webLoginCookie],
  ['WebSocket subprotocol token', websocketProtocol],
  ['WebSocket ticket', ticket],
];

/** The first credential the request presents, in the declared order, or null if none. */
export function presentedCredential(req: RequestView, stores: CredentialStores): Presented | null {
  for (const [, source] of CREDENTIAL_SOURCES) {
    const p = source(req, stores);
    if (p) return p;
  }
  return null;
}
