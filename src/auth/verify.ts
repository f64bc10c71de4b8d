// Credential -> token record, or the reason it is refused. In-memory and O(1) in the number of
// tokens: parse + checksum, one SHA-256, one Map lookup, then expiry.
import { timingSafeEqual } from 'node:crypto';
import { parseTokenShape, checksumMatches, hashToken, type MalformedDetail } from './token-format.js';
import type { TokenRecord } from './shapes.js';
import type { TokenFile } from './token-record.js';

/** SHA-256 hex is 64 characters; stored digests have the same length (token-record validation). */
const SCRATCH = Buffer.alloc(64);

export type RefusalReason = 'missing' | 'malformed' | 'unknown' | 'expired';

export type VerifyResult = { ok: true; record: TokenRecord } | { ok: false; reason: RefusalReason; detail?: MalformedDetail; record?: TokenRecord };

interface Entry {
  record: TokenRecord;
  hash: Buffer;
  expiresMs: number; // Infinity for never
}

export class TokenIndex {
  private readonly byHash = new Map<string, Entry>();
  private readonly byId = new Map<string, Entry>();

  constructor(file: TokenFile) {
    for (const record of file.tokens) {
      const entry: Entry = {
        record,
        hash: Buffer.from(record.hash, 'latin1'), // the hex text's bytes: compared as they are
        expiresMs: record.expiresAt === null ? Infinity : Date.parse(record.expiresAt),
      };
      // An OAuth grant's hash is its refresh token's: that token is only ever redeemed at the token
      // endpoint, never a credential for a request, so it is not in the lookup (byId keeps the grant,
      // for its access tokens and connections).
      if (record.kind !== 'oauth') this.byHash.set(record.hash, entry);
      this.byId.set(record.id, entry);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  records(): TokenRecord[] {
    return [...this.byId.values()].map((e) => e.record);
  }

  verify(candidate: string | undefined | null, now = Date.now()): VerifyResult {
    if (candidate === undefined || candidate === null || candidate === '') return { ok: false, reason: 'missing' };
    const parsed = parseTokenShape(candidate);
    if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.detail };
    const hex = hashToken(parsed.token);
    // Why the lookup key cannot be steered: it is the SHA-256 of the whole presented string, so
    // choosing a key means finding a SHA-256 preimage, and the Map's hashing of it leaks nothing
    // useful about the stored digests (an attacker who could aim at a stored digest would already
    // need the token). The constant-time compare then guards the bytes that decide acceptance;
    // the scratch buffer only avoids allocating a copy per request (verify is synchronous, so it
    // is never shared between two calls).
    const entry = this.byHash.get(hex);
    const accepted = entry !== undefined && (SCRATCH.write(hex, 0, 'latin1'), timingSafeEqual(entry.hash, SCRATCH));
    if (!accepted) {
      // The checksum only explains a rejection (a mistyped token), so it is computed only here;
      // the outcome and message are the same as checking it first.
      if (!checksumMatches(parsed.token)) return { ok: false, reason: 'malformed', detail: 'bad_checksum' };
      return { ok: false, reason: 'unknown' };
    }
    if (entry.expiresMs <= now) return { ok: false, reason: 'expired', record: entry.record };
    return { ok: true, record: entry.record };
  }

  /** Whether a token id still exists and is unexpired (for live connections opened by it). */
  isActive(id: string, now = Date.now()): boolean {
    const e = this.byId.get(id);
    return e !== undefined && e.expiresMs > now;
  }

  get(id: string): TokenRecord | undefined {
    return this.byId.get(id)?.record;
  }
}
