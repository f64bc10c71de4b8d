// One-time tickets for WebSocket upgrades (see README "WebSocket credentials"). A browser cannot set
// an Authorization header on a WebSocket, so `POST /pty/:id/ticket` (authenticated normally, needs
// write+execute) returns a random 256-bit ticket, valid 30 s, bound to the token that asked for it
// and to one connect path (`/pty/<id>/connect`); the client passes it as `?ticket=`. The first
// request that presents a ticket consumes it, whatever the outcome. It authenticates as the token
// that made it, so the guard still checks that this token exists, is unexpired and has the
// permissions the upgrade needs. Tickets of a token that is deleted or expires are dropped with it.
import { createHash, randomBytes } from 'node:crypto';
import { TetherError } from '../errors.js';

export const TICKET_TTL_MS = 30_000;
const TICKET_PREFIX = 'tkt_';
const TICKET_BYTES = 32;
const TICKET_PATTERN = /^tkt_[A-Za-z0-9_-]{43}$/;

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
      throw new TetherError(
        'too_many_tickets',
        `too many outstanding tickets (${this.maxTickets}); use or let them expire (${this.ttlMs / 1000} s) first`,
        429,
      );
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
