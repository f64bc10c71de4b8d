// Pairing codes: one-time, five-minute secrets that a device exchanges for a token of its own
// (`tether pair`, POST /auth/pair). Held in memory only, and only as SHA-256 hashes: a server
// restart cancels every pending code (its creator's `tether pair` says so), and nothing on disk
// could ever redeem one.
//
// A code is claimed synchronously, before anything awaits: of any number of concurrent redemptions
// exactly one gets it. Used, expired, cancelled and never-issued codes are refused alike, so a
// guesser learns nothing from the answer. Each code is tied to the token that made it: that token
// alone sees its state or cancels it, and deleting the token cancels its pending codes.
//
// Bounded: at most MAX_PENDING_PER_TOKEN pending codes per token and MAX_PENDING in all (429
// beyond); finished codes are remembered for KEEP_FINISHED_MS so their creator can read the outcome.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { TetherError } from '../errors.js';
import type { PairingGrant, PairingState, PairingStatus } from './shapes.js';

export const PAIRING_TTL_MS = 5 * 60_000;
export const MAX_PENDING = 100;
export const MAX_PENDING_PER_TOKEN = 5;
const KEEP_FINISHED_MS = 10 * 60_000;

/** The one answer for a code that cannot be redeemed, whatever the reason. */
export const PAIRING_REFUSED_MESSAGE = 'this pairing link was used, expired or cancelled; ask for a new one (`tether pair` on the server)';

interface Entry {
  id: string;
  hash: string;
  creatorTokenId: string;
  grant: PairingGrant;
  expiresAt: number;
  /** `claimed`: a redemption is under way (shown as pending). */
  state: PairingState | 'claimed';
  finishedAt?: number;
  device?: { id: string; name: string };
}

export interface PairingOptions {
  now?: () => number;
}

export type Claim = { ok: true; id: string; creatorTokenId: string; grant: PairingGrant } | { ok: false; reason: 'unknown' | PairingState | 'claimed' };

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

function newId(): string {
  let s = 'pair_';
  for (let i = 0; i < 16; i++) s += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return s;
}

export class PairingCodes {
  private readonly byId = new Map<string, Entry>();
  private readonly byHash = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(opts: PairingOptions = {}) {
    this.now = opts.now ?? Date.now;
  }

  /** A new code for `grant`; the code itself is returned here once and never kept. */
  create(creatorTokenId: string, grant: PairingGrant): PairingStatus & { code: string } {
    const now = this.now();
    this.sweep(now);
    const pending = [...this.byId.values()].filter((e) => e.state === 'pending');
    if (pending.filter((e) => e.creatorTokenId === creatorTokenId).length >= MAX_PENDING_PER_TOKEN) {
      throw new TetherError(
        'too_many_pairing_codes',
        `this token already has ${MAX_PENDING_PER_TOKEN} pairing codes waiting; use or cancel one (or wait up to 5 minutes)`,
        429,
      );
    }
    if (pending.length >= MAX_PENDING)
      throw new TetherError('too_many_pairing_codes', `the server holds ${MAX_PENDING} pairing codes waiting; try again in a few minutes`, 429);
    const code = randomBytes(16).toString('base64url');
    let id = newId();
    while (this.byId.has(id)) id = newId();
    const entry: Entry = { id, hash: sha256(code), creatorTokenId, grant: structuredClone(grant), expiresAt: now + PAIRING_TTL_MS, state: 'pending' };
    this.byId.set(id, entry);
    this.byHash.set(entry.hash, entry);
    return { ...this.view(entry), code };
  }

  /** Takes the code for one redemption, at once and for good. Then `complete` or `fail` it. */
  claim(code: string): Claim {
    const now = this.now();
    this.sweep(now);
    const entry = this.byHash.get(sha256(code));
    if (!entry) return { ok: false, reason: 'unknown' };
    if (entry.state !== 'pending') return { ok: false, reason: entry.state };
    entry.state = 'claimed';
    this.byHash.delete(entry.hash);
    return { ok: true, id: entry.id, creatorTokenId: entry.creatorTokenId, grant: structuredClone(entry.grant) };
  }

  complete(id: string, device: { id: string; name: string }): void {
    const e = this.byId.get(id);
    if (e?.state !== 'claimed') return;
    e.state = 'paired';
    e.device = { ...device };
    e.finishedAt = this.now();
  }

  fail(id: string): void {
    const e = this.byId.get(id);
    if (e?.state !== 'claimed') return;
    e.state = 'failed';
    e.finishedAt = this.now();
  }

  /** The state of a code by its id (the caller checks ownership with mayManagePairing). */
  get(id: string): (PairingStatus & { creatorTokenId: string }) | undefined {
    this.sweep(this.now());
    const e = this.byId.get(id);
    return e ? { ...this.view(e), creatorTokenId: e.creatorTokenId } : undefined;
  }

  /** Cancels a pending code; false when it is no longer pending (used, expired, being redeemed). */
  cancel(id: string): boolean {
    this.sweep(this.now());
    const e = this.byId.get(id);
    if (e?.state !== 'pending') return false;
    this.finish(e, 'cancelled', this.now());
    return true;
  }

  /** The token behind these codes was deleted or expired: its pending codes die with it. */
  dropToken(tokenId: string): void {
    const now = this.now();
    for (const e of this.byId.values()) if (e.creatorTokenId === tokenId && e.state === 'pending') this.finish(e, 'cancelled', now);
  }

  /** Codes that can still be redeemed. */
  get pendingCount(): number {
    this.sweep(this.now());
    return [...this.byId.values()].filter((e) => e.state === 'pending').length;
  }

  private finish(e: Entry, state: PairingState, at: number): void {
    e.state = state;
    e.finishedAt = at;
    this.byHash.delete(e.hash);
  }

  private sweep(now: number): void {
    for (const [id, e] of this.byId) {
      if (e.state === 'pending' && e.expiresAt <= now) this.finish(e, 'expired', e.expiresAt);
      if (e.finishedAt !== undefined && now - e.finishedAt >= KEEP_FINISHED_MS) this.byId.delete(id);
    }
  }

  private view(e: Entry): PairingStatus {
    return {
      id: e.id,
      state: e.state === 'claimed' ? 'pending' : e.state,
      expiresAt: new Date(e.expiresAt).toISOString(),
      grant: structuredClone(e.grant),
      ...(e.device ? { device: { ...e.device } } : {}),
    };
  }
}
