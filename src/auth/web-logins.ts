// Web UI logins: `POST /auth/session` exchanges a token for an HttpOnly, SameSite=Strict cookie
// bound to that token's id, so deleting or expiring the token ends the login at once (the guard
// re-checks the token behind the cookie on every request). Logins live in memory: a server restart
// logs web users out.
//
// Cookies are not scoped by port: any other web server on this host name that the user visits
// receives the cookie too. So the cookie alone authenticates nothing: every request must also carry
// the login key returned by the login (see credential-list.ts), kept by the page in sessionStorage,
// which is per origin, port included.
//
// Bounded without letting one token push others out: a token's new login evicts only that token's
// own oldest login beyond MAX_PER_TOKEN, and at the global cap new logins are refused (429) rather
// than evicting anyone else's.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TetherError } from '../errors.js';

export const MAX_WEB_LOGINS = 1000;
export const MAX_WEB_LOGINS_PER_TOKEN = 16;
const MAX_AGE_MS = 12 * 3600_000;

interface WebLogin {
  tokenId: string;
  expiresAt: number;
  /** SHA-256 of the key the page must send with the cookie. */
  keyHash: Buffer;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface WebLoginsOptions {
  now?: () => number;
  max?: number;
  maxPerToken?: number;
}

export class WebLogins {
  private readonly logins = new Map<string, WebLogin>();
  private readonly now: () => number;
  private readonly max: number;
  private readonly maxPerToken: number;

  constructor(opts: WebLoginsOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.max = opts.max ?? MAX_WEB_LOGINS;
    this.maxPerToken = opts.maxPerToken ?? MAX_WEB_LOGINS_PER_TOKEN;
  }

  /** Throws a 429 TetherError when the server holds its maximum of other tokens' logins. */
  create(tokenId: string, tokenExpiresAt: string | null): { id: string; key: string; maxAgeS: number } {
    const now = this.now();
    this.sweep(now);
    const own = [...this.logins].filter(([, l]) => l.tokenId === tokenId);
    // Map order is creation order: the token's oldest logins come first.
    for (const [id] of own.slice(0, Math.max(0, own.length - this.maxPerToken + 1))) this.logins.delete(id);
    if (this.logins.size >= this.max) {
      throw new TetherError('too_many_logins', `the server holds its maximum of ${this.max} web logins; try again when some have ended`, 429);
    }
    const id = randomBytes(32).toString('base64url');
    const key = randomBytes(32).toString('base64url');
    const expiresAt = Math.min(now + MAX_AGE_MS, tokenExpiresAt ? Date.parse(tokenExpiresAt) : Infinity);
    this.logins.set(id, { tokenId, expiresAt, keyHash: sha256(key) });
    return { id, key, maxAgeS: Math.max(1, Math.floor((expiresAt - now) / 1000)) };
  }

  /** The token id behind a live login whose key matches, else null. */
  lookup(id: string, key: string): string | null {
    const l = this.logins.get(id);
    if (!l) return null;
    if (l.expiresAt <= this.now()) {
      this.logins.delete(id);
      return null;
    }
    return timingSafeEqual(l.keyHash, sha256(key)) ? l.tokenId : null;
  }

  delete(id: string): void {
    this.logins.delete(id);
  }

  dropToken(tokenId: string): void {
    for (const [id, l] of this.logins) if (l.tokenId === tokenId) this.logins.delete(id);
  }

  get size(): number {
    return this.logins.size;
  }

  private sweep(now: number): void {
    for (const [id, l] of this.logins) if (l.expiresAt <= now) this.logins.delete(id);
  }
}
