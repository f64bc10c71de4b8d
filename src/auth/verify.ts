// Credential -> token record, or the reason it is refused. In-memory and O(1) in the number of
// tokens: parse + checksum, one SHA-256, one Map lookup, then expiry.
import { timingSafeEqual } from 'node:crypto';
import { parseToken, hashToken, type MalformedDetail } from './token-format.js';
import type { TokenRecord } from './shapes.js';
import type { TokenFile } from './token-record.js';

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
    const parsed = parseToken(candidate);
    if (!parsed.ok) return { ok: false, reason: 'malformed', detail: parsed.detail };
    const hex = hashToken(parsed.token);
    const entry = this.byHash.get(hex);
    // The Map lookup is keyed by a digest the caller cannot steer; the constant-time compare guards
    // the bytes that decide acceptance.
    if (!entry || !timingSafeEqual(entry.hash, Buffer.from(hex, 'latin1'))) return { ok: false, reason: 'unknown' };
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
