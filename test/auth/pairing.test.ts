// Pairing codes in memory (src/auth/pairing.ts), on a fake clock: single use, five minutes, held as
// hashes only, bounded, tied to the token that made them.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAX_PENDING, MAX_PENDING_PER_TOKEN, PAIRING_TTL_MS, PairingCodes } from '../../src/auth/pairing.js';
import type { PairingGrant } from '../../src/auth/shapes.js';

const grant: PairingGrant = { name: null, permissions: ['read', 'write'], expiresAt: null };

function clock(start = 1_800_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('pairing codes', () => {
  it('a code works once', () => {
    const codes = new PairingCodes();
    const { code, id } = codes.create('tok_aaaaaaaaaa', grant);
    expect(code).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(id).toMatch(/^pair_[0-9a-z]{16}$/);
    const first = codes.claim(code);
    expect(first).toEqual({ ok: true, id, creatorTokenId: 'tok_aaaaaaaaaa', grant });
    expect(codes.claim(code)).toEqual({ ok: false, reason: 'unknown' });
    codes.complete(id, { id: 'tok_bbbbbbbbbb', name: 'phone' });
    expect(codes.get(id)).toMatchObject({ state: 'paired', device: { id: 'tok_bbbbbbbbbb', name: 'phone' } });
    expect(codes.claim(code).ok).toBe(false);
  });

  it('a code works until just before 5 minutes, and not at 5 minutes', () => {
    const c = clock();
    const codes = new PairingCodes({ now: c.now });
    const a = codes.create('tok_aaaaaaaaaa', grant);
    const b = codes.create('tok_aaaaaaaaaa', grant);
    expect(a.expiresAt).toBe(new Date(c.t + PAIRING_TTL_MS).toISOString());
    c.t += PAIRING_TTL_MS - 1;
    expect(codes.claim(a.code).ok).toBe(true);
    c.t += 1;
    expect(codes.claim(b.code)).toEqual({ ok: false, reason: 'unknown' });
    expect(codes.get(b.id)?.state).toBe('expired');
  });

  it('claiming is synchronous: of many claims of one code exactly one wins', () => {
    const codes = new PairingCodes();
    const { code } = codes.create('tok_aaaaaaaaaa', grant);
    const results = Array.from({ length: 50 }, () => codes.claim(code));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('a cancelled code is refused; a used or claimed one cannot be cancelled', () => {
    const codes = new PairingCodes();
    const a = codes.create('tok_aaaaaaaaaa', grant);
    expect(codes.cancel(a.id)).toBe(true);
    expect(codes.get(a.id)?.state).toBe('cancelled');
    expect(codes.claim(a.code).ok).toBe(false);
    const b = codes.create('tok_aaaaaaaaaa', grant);
    expect(codes.claim(b.code).ok).toBe(true);
    expect(codes.cancel(b.id)).toBe(false);
    // A claim under way shows as pending to its creator, then as what it became.
    expect(codes.get(b.id)?.state).toBe('pending');
    codes.fail(b.id);
    expect(codes.get(b.id)?.state).toBe('failed');
  });

  it('used, expired, cancelled and never-issued codes give the same answer', () => {
    const c = clock();
    const codes = new PairingCodes({ now: c.now });
    const used = codes.create('tok_aaaaaaaaaa', grant);
    codes.claim(used.code);
    const cancelled = codes.create('tok_aaaaaaaaaa', grant);
    codes.cancel(cancelled.id);
    const expired = codes.create('tok_aaaaaaaaaa', grant);
    c.t += PAIRING_TTL_MS;
    const answers = [used.code, cancelled.code, expired.code, 'A'.repeat(22), '', 'x'.repeat(10_000)].map((k) => codes.claim(k));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it('holds codes only as hashes: nothing in the store is the code', () => {
    const codes = new PairingCodes();
    const made = Array.from({ length: 3 }, () => codes.create('tok_aaaaaaaaaa', grant));
    const dump = inspect(codes, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity });
    for (const m of made) expect(dump).not.toContain(m.code);
    expect(dump).toContain(made[0].id);
  });

  it('at most 5 pending codes per token and 100 in all (429), expired ones freeing their place', () => {
    const c = clock();
    const codes = new PairingCodes({ now: c.now });
    for (let i = 0; i < MAX_PENDING_PER_TOKEN; i++) codes.create('tok_aaaaaaaaaa', grant);
    expect(() => codes.create('tok_aaaaaaaaaa', grant)).toThrow(expect.objectContaining({ status: 429, code: 'too_many_pairing_codes' }));
    expect(() => codes.create('tok_bbbbbbbbbb', grant)).not.toThrow();
    for (let i = 0; codes.pendingCount < MAX_PENDING; i++) codes.create(`tok_${String(i).padStart(10, '0')}`, grant);
    expect(() => codes.create('tok_cccccccccc', grant)).toThrow(expect.objectContaining({ status: 429 }));
    c.t += PAIRING_TTL_MS;
    expect(codes.pendingCount).toBe(0);
    expect(() => codes.create('tok_aaaaaaaaaa', grant)).not.toThrow();
  });

  it("deleting the creating token cancels its pending codes, not other tokens' codes", () => {
    const codes = new PairingCodes();
    const mine = codes.create('tok_aaaaaaaaaa', grant);
    const other = codes.create('tok_bbbbbbbbbb', grant);
    codes.dropToken('tok_aaaaaaaaaa');
    expect(codes.claim(mine.code).ok).toBe(false);
    expect(codes.get(mine.id)?.state).toBe('cancelled');
    expect(codes.claim(other.code).ok).toBe(true);
  });

  it('a finished code is remembered for 10 minutes for its creator, then forgotten', () => {
    const c = clock();
    const codes = new PairingCodes({ now: c.now });
    const a = codes.create('tok_aaaaaaaaaa', grant);
    c.t += PAIRING_TTL_MS + 10 * 60_000 - 1;
    expect(codes.get(a.id)?.state).toBe('expired');
    c.t += 1;
    expect(codes.get(a.id)).toBeUndefined();
  });

  it('the grant handed out is a copy', () => {
    const codes = new PairingCodes();
    const g: PairingGrant = { name: 'x', permissions: ['read'], expiresAt: null, scopes: ['/a'] };
    const a = codes.create('tok_aaaaaaaaaa', g);
    g.permissions.push('execute');
    g.scopes!.push('/b');
    const claim = codes.claim(a.code);
    expect(claim.ok && claim.grant).toEqual({ name: 'x', permissions: ['read'], expiresAt: null, scopes: ['/a'] });
  });
});
