// WebSocket credentials. Browsers cannot set an Authorization header on a WebSocket, so besides the
// header (CLI clients; handled by the guard itself) an upgrade may authenticate with:
//
// 1. A subprotocol offer carrying the token. The client offers exactly two protocols:
//        Sec-WebSocket-Protocol: tether, tether.auth.<TOKEN>
//    e.g. `new WebSocket(url, ['tether', 'tether.auth.' + token])`. The server selects and echoes
//    back only `tether` (see `handleProtocols` in server.ts): the secret never appears in the
//    response. A token in this header is accepted on WebSocket upgrades only.
//
// 2. A one-time ticket: `POST /pty/:id/ticket` (authenticated normally, needs write+execute)
//    returns a random 256-bit ticket, valid 30 s, bound to the token that asked for it and to one
//    connect path (`/pty/<id>/connect`). The client passes it as `?ticket=`. The first request that
//    presents a ticket consumes it, whatever the outcome; a ticket is accepted only on a WebSocket
//    upgrade of the path it was issued for. It authenticates as the token that made it, so the
//    guard still checks that this token exists, is unexpired and has the permissions the upgrade
//    needs. Tickets of a token that is deleted or expires are dropped with it.
//
// A long-lived token is never accepted in a URL: a request whose query carries a token (a
// `token`/`access_token` parameter, or any value shaped like a tether token) is refused with 401.
//
// Extractors are only consulted when there is no Authorization header (see auth/middleware.ts).
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import type { Extractor, Presented } from '../auth/middleware.js';
import { TetherError } from '../errors.js';
import { WS_PROTOCOL } from './server.js';

/** Prefix of the subprotocol that carries the token: `tether.auth.<TOKEN>`. */
export const AUTH_PROTOCOL_PREFIX = `${WS_PROTOCOL}.auth.`;

export const TICKET_TTL_MS = 30_000;
const TICKET_PREFIX = 'tkt_';
const TICKET_BYTES = 32;
const TICKET_PATTERN = /^tkt_[A-Za-z0-9_-]{43}$/;
/** Anything shaped like a tether token, anywhere in a query value. */
const TOKEN_IN_TEXT = /tether_[0-9A-Za-z]{28}/;
const TOKEN_PARAM = /^(token|access_token)$/i;

export function isWebSocketUpgrade(c: Context): boolean {
  // The same test as the guard's: any mention of websocket counts.
  return /websocket/i.test(c.req.header('upgrade') ?? '');
}

const invalid = (problem: string, via: Presented['via']): Presented => ({ kind: 'invalid', problem, via });

/** Refuses any request that carries a long-lived token in its URL query. */
export const rejectTokenInUrl: Extractor = (c) => {
  const url = c.req.url;
  const q = url.indexOf('?');
  if (q === -1) return null;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(q + 1).split('#', 1)[0]);
  } catch {
    return null;
  }
  for (const [key, value] of params) {
    if (TOKEN_PARAM.test(key) || TOKEN_IN_TEXT.test(value) || TOKEN_IN_TEXT.test(key)) {
      return invalid(
        `a token is never accepted in a URL (URLs end up in logs and history); send "Authorization: Bearer <token>", ` +
          `or for a WebSocket offer the subprotocols "${WS_PROTOCOL}, ${AUTH_PROTOCOL_PREFIX}<token>" or use a one-time ?ticket= from POST /pty/:id/ticket`,
        'none',
      );
    }
  }
  return null;
};

/** `Sec-WebSocket-Protocol: tether, tether.auth.<TOKEN>` on a WebSocket upgrade. */
export const protocolCredential: Extractor = (c) => {
  const header = c.req.header('sec-websocket-protocol');
  if (header === undefined) return null;
  const offers = header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const auth = offers.filter((p) => p.startsWith(AUTH_PROTOCOL_PREFIX));
  if (auth.length === 0) return null;
  const via = 'websocket-protocol' as const;
  if (!isWebSocketUpgrade(c)) return invalid('a token in Sec-WebSocket-Protocol is accepted on WebSocket upgrades only', via);
  if (auth.length > 1) return invalid(`offer exactly one "${AUTH_PROTOCOL_PREFIX}<token>" subprotocol`, via);
  if (!offers.includes(WS_PROTOCOL)) {
    return invalid(`offer the subprotocol "${WS_PROTOCOL}" alongside "${AUTH_PROTOCOL_PREFIX}<token>" (the server selects "${WS_PROTOCOL}")`, via);
  }
  return { kind: 'token', token: auth[0]!.slice(AUTH_PROTOCOL_PREFIX.length), via };
};

export interface TicketStoreOptions {
  /** Lifetime of a ticket. Default 30 s. */
  ttlMs?: number;
  /** Outstanding tickets in all; issuing beyond this (after dropping expired ones) is refused with 429. */
  maxTickets?: number;
  /** Outstanding tickets per token; beyond this the token's oldest ticket is dropped. */
  maxPerToken?: number;
  /** Clock (ms since the epoch); injectable for tests. */
  now?: () => number;
}

interface TicketEntry {
  tokenId: string | null;
  /** The only path the ticket opens, e.g. `/pty/pty_0123456789abcdef/connect`. */
  scope: string;
  expiresAt: number;
}

export type Redeemed = { ok: true; tokenId: string | null } | { ok: false; problem: string };

const hashTicket = (ticket: string) => createHash('sha256').update(ticket, 'utf8').digest('hex');

/**
 * One-time tickets, in memory. Keyed by the ticket's SHA-256, so lookups are not steered by the
 * secret's bytes. Bounded: expired tickets are swept on every issue and redeem (the TTL is fixed, so
 * the oldest entries, first in the Map, expire first), plus a total and a per-token cap.
 */
export class TicketStore {
  readonly ttlMs: number;
  private readonly maxTickets: number;
  private readonly maxPerToken: number;
  private readonly now: () => number;
  private readonly tickets = new Map<string, TicketEntry>();

  constructor(opts: TicketStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? TICKET_TTL_MS;
    this.maxTickets = opts.maxTickets ?? 4096;
    this.maxPerToken = opts.maxPerToken ?? 64;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.tickets.size;
  }

  issue(tokenId: string | null, scope: string): { ticket: string; expiresAt: number } {
    const now = this.now();
    this.sweep(now);
    const own = [...this.tickets].filter(([, e]) => e.tokenId === tokenId);
    for (const [key] of own.slice(0, Math.max(0, own.length - this.maxPerToken + 1))) this.tickets.delete(key);
    if (this.tickets.size >= this.maxTickets) {
      throw new TetherError('too_many_tickets', `too many outstanding tickets (${this.maxTickets}); use or let them expire (${this.ttlMs / 1000} s) first`, 429);
    }
    const ticket = TICKET_PREFIX + randomBytes(TICKET_BYTES).toString('base64url');
    const expiresAt = now + this.ttlMs;
    this.tickets.set(hashTicket(ticket), { tokenId, scope, expiresAt });
    return { ticket, expiresAt };
  }

  /** Consumes the ticket (whatever the outcome) and says whether it admits `scope`. */
  redeem(ticket: string, scope: string | null): Redeemed {
    const now = this.now();
    if (!TICKET_PATTERN.test(ticket)) return { ok: false, problem: 'the ticket is malformed' };
    const key = hashTicket(ticket);
    const entry = this.tickets.get(key);
    this.tickets.delete(key);
    this.sweep(now);
    if (!entry) return { ok: false, problem: 'the ticket is unknown, already used or expired (a ticket works once, within 30 s)' };
    if (entry.expiresAt <= now) return { ok: false, problem: 'the ticket has expired (a ticket works once, within 30 s)' };
    if (scope === null || entry.scope !== scope) return { ok: false, problem: `the ticket was issued for ${entry.scope} only` };
    return { ok: true, tokenId: entry.tokenId };
  }

  /** Drops every ticket of a token (deleted or expired). Returns how many. */
  dropToken(tokenId: string): number {
    return this.dropWhere((e) => e.tokenId === tokenId);
  }

  /** Drops every ticket for a path (e.g. a terminal that was deleted). */
  dropScope(scope: string): number {
    return this.dropWhere((e) => e.scope === scope);
  }

  sweep(now = this.now()): void {
    for (const [key, e] of this.tickets) {
      if (e.expiresAt > now) break; // Fixed TTL: the rest were issued later.
      this.tickets.delete(key);
    }
  }

  private dropWhere(pred: (e: TicketEntry) => boolean): number {
    let n = 0;
    for (const [key, e] of this.tickets) {
      if (pred(e)) {
        this.tickets.delete(key);
        n++;
      }
    }
    return n;
  }
}

/**
 * `?ticket=` on a WebSocket upgrade of exactly the path the ticket was issued for. Yields the id of
 * the token that made the ticket; the guard then checks that token as usual.
 */
export function ticketCredential(store: TicketStore): Extractor {
  return (c) => {
    const all = c.req.queries('ticket');
    if (all === undefined || all.length === 0) return null;
    const via = 'ticket' as const;
    if (all.length > 1) {
      for (const t of all) store.redeem(t, null);
      return invalid('pass one ticket', via);
    }
    const ticket = all[0]!;
    const onUpgrade = c.req.method === 'GET' && isWebSocketUpgrade(c);
    const r = store.redeem(ticket, onUpgrade ? c.req.path : null);
    if (!r.ok) return invalid(onUpgrade ? r.problem : 'a ticket is accepted only on the WebSocket upgrade it was issued for (GET /pty/:id/connect)', via);
    if (r.tokenId === null) return invalid('the ticket was issued without a token', via);
    return { kind: 'token-id', tokenId: r.tokenId, via };
  };
}
