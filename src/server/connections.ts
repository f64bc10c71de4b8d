// Live connections (SSE streams, WebSockets) and the token that opened each. A sweep every
// `intervalMs` re-checks the token file and closes, within that interval, every connection whose
// token was deleted or has expired. Connections of a capped kind (event streams) are also counted
// per token, so a route can refuse one more than its cap.
import type { LiveTokens } from '../auth/live-tokens.js';
import type { TokenIndex } from '../auth/verify.js';

export type CloseReason = 'token revoked' | 'token expired' | 'server shutting down';

interface Conn {
  tokenId: string | null;
  close: (reason: CloseReason) => void;
  kind?: string;
}

const countKey = (kind: string, tokenId: string | null) => `${kind}\0${tokenId ?? ''}`;

export class LiveConnections {
  private readonly conns = new Set<Conn>();
  private readonly counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(tokenId: string, reason: CloseReason) => void>();
  private active = new Set<string>();
  private activeOf: TokenIndex | null = null;
  private nextExpiry = Infinity;

  constructor(
    private readonly tokens: LiveTokens | null,
    private readonly intervalMs = 250,
  ) {}

  /** Registers a connection; returns its unregister function. */
  add(tokenId: string | null, close: (reason: CloseReason) => void): () => void {
    return this.register({ tokenId, close });
  }

  /**
   * Like add, for a kind capped per token: returns null (registering nothing) when `tokenId`
   * already holds `max` live connections of `kind`. (--no-auth's null token is one token.)
   */
  addCapped(tokenId: string | null, kind: string, max: number, close: (reason: CloseReason) => void): (() => void) | null {
    if (this.count(kind, tokenId) >= max) return null;
    return this.register({ tokenId, close, kind });
  }

  /** Live connections of `kind` opened by `tokenId`. */
  count(kind: string, tokenId: string | null): number {
    return this.counts.get(countKey(kind, tokenId)) ?? 0;
  }

  private register(conn: Conn): () => void {
    this.conns.add(conn);
    if (conn.kind !== undefined) {
      const k = countKey(conn.kind, conn.tokenId);
      this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
    return () => this.remove(conn);
  }

  /** Idempotent: an unregister after a sweep already removed it changes nothing. */
  private remove(conn: Conn): void {
    if (!this.conns.delete(conn) || conn.kind === undefined) return;
    const k = countKey(conn.kind, conn.tokenId);
    const n = (this.counts.get(k) ?? 1) - 1;
    if (n > 0) this.counts.set(k, n);
    else this.counts.delete(k);
  }

  /** Notified when a token is found revoked/expired (e.g. to drop its WebSocket tickets). */
  onTokenGone(fn: (tokenId: string, reason: CloseReason) => void): void {
    this.listeners.add(fn);
  }

  get size(): number {
    return this.conns.size;
  }

  start(): void {
    if (this.timer || !this.tokens) return;
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  sweep(now = Date.now()): void {
    if (!this.tokens) return;
    const index = this.tokens.current();
    const gone = new Map<string, CloseReason>();
    // Deleted tokens the server saw at some load, even if never at a sweep (a token created and
    // deleted within one interval): LiveTokens diffs every load.
    for (const id of this.tokens.takeRemoved()) gone.set(id, 'token revoked');
    // Tokens that were active at the last sweep and are not now (deleted or expired), whether or
    // not they have a live connection: listeners drop what else hangs on them (tickets, web logins).
    // Recomputed only when the file was reloaded or the next expiry has passed, not every sweep.
    if (this.listeners.size > 0 && (index !== this.activeOf || now >= this.nextExpiry)) {
      const active = new Set<string>();
      let nextExpiry = Infinity;
      for (const r of index.records()) {
        if (!index.isActive(r.id, now)) continue;
        active.add(r.id);
        if (r.expiresAt !== null) nextExpiry = Math.min(nextExpiry, Date.parse(r.expiresAt));
      }
      for (const id of this.active) if (!active.has(id)) gone.set(id, index.get(id) ? 'token expired' : 'token revoked');
      this.active = active;
      this.activeOf = index;
      this.nextExpiry = nextExpiry;
    }
    for (const conn of [...this.conns]) {
      if (conn.tokenId === null || index.isActive(conn.tokenId, now)) continue;
      const reason: CloseReason = index.get(conn.tokenId) ? 'token expired' : 'token revoked';
      gone.set(conn.tokenId, reason);
      this.remove(conn);
      try {
        conn.close(reason);
      } catch {
        // the connection may already be half-closed
      }
    }
    for (const [id, reason] of gone) for (const l of this.listeners) l(id, reason);
  }

  closeAll(reason: CloseReason = 'server shutting down'): void {
    for (const conn of [...this.conns]) {
      this.remove(conn);
      try {
        conn.close(reason);
      } catch {
        // ignore
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
