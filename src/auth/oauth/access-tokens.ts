// OAuth access tokens: tether-format tokens, held only as SHA-256 hashes in memory, each mapped to
// its grant (a token-file record of kind `oauth`), its audience and its expiry. Nothing is written:
// a restart forgets them all, and clients get new ones with their refresh token. The guard accepts
// one only while its grant is still in the token file, so deleting the grant ends them at once.
import { generateToken, hashToken, parseToken } from '../token-format.js';
import { ACCESS_TOKEN_TTL_MS } from './metadata.js';

export interface AccessEntry {
  grantId: string;
  audience: string;
  expiresMs: number;
}

export const MAX_ACCESS_TOKENS = 10_000;

export class AccessTokens {
  private readonly byHash = new Map<string, AccessEntry>();

  constructor(
    private readonly ttlMs = ACCESS_TOKEN_TTL_MS,
    private readonly max = MAX_ACCESS_TOKENS,
    private readonly now: () => number = Date.now,
  ) {}

  issue(grantId: string, audience: string): { token: string; expiresIn: number } {
    const t = this.now();
    if (this.byHash.size >= this.max) this.sweep(t);
    // Still full: the oldest goes (it is the first to expire anyway).
    while (this.byHash.size >= this.max) this.byHash.delete(this.byHash.keys().next().value!);
    const token = generateToken();
    this.byHash.set(hashToken(token), { grantId, audience, expiresMs: t + this.ttlMs });
    return { token, expiresIn: Math.floor(this.ttlMs / 1000) };
  }

  /** The live entry behind a presented token, or undefined. */
  lookup(token: string): AccessEntry | undefined {
    const parsed = parseToken(token);
    if (!parsed.ok) return undefined;
    const h = hashToken(parsed.token);
    const e = this.byHash.get(h);
    if (!e) return undefined;
    if (e.expiresMs <= this.now()) {
      this.byHash.delete(h);
      return undefined;
    }
    return e;
  }

  dropGrant(grantId: string): void {
    for (const [h, e] of this.byHash) if (e.grantId === grantId) this.byHash.delete(h);
  }

  get size(): number {
    return this.byHash.size;
  }

  private sweep(t: number): void {
    for (const [h, e] of this.byHash) if (e.expiresMs <= t) this.byHash.delete(h);
  }
}
