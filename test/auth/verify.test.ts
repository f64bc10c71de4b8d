import { describe, expect, it } from 'vitest';
import { TokenIndex } from '../../src/auth/verify.js';
import { checksumMatches, generateToken, hashToken, parseToken, parseTokenShape } from '../../src/auth/token-format.js';
import type { TokenRecord } from '../../src/auth/shapes.js';

function rec(token: string, over: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: 'tok_' + Math.random().toString(36).slice(2, 12).padEnd(10, '0'),
    name: 'n' + Math.random().toString(36).slice(2, 8),
    hash: hashToken(token),
    permissions: ['read'],
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
    lastUsedAt: null,
    ...over,
  };
}

describe('TokenIndex.verify', () => {
  const now = Date.parse('2026-11-27T12:00:00Z');
  const good = generateToken();
  const expired = generateToken();
  const later = generateToken();
  const index = new TokenIndex({
    version: 1,
    tokens: [rec(good), rec(expired, { expiresAt: '2026-11-27T11:59:59.999Z' }), rec(later, { expiresAt: '2026-11-27T12:00:01.000Z' })],
  });

  it('accepts a known token', () => {
    const r = index.verify(good, now);
    expect(r.ok && r.record.hash).toBe(hashToken(good));
  });
  it('a token that never expires stays valid far in the future', () => {
    expect(index.verify(good, Date.parse('2999-01-01T00:00:00Z')).ok).toBe(true);
  });
  it('reports missing, malformed, unknown and expired', () => {
    expect(index.verify(undefined, now)).toEqual({ ok: false, reason: 'missing' });
    expect(index.verify('', now)).toEqual({ ok: false, reason: 'missing' });
    expect(index.verify('tether_nope', now)).toMatchObject({ ok: false, reason: 'malformed', detail: 'wrong_length' });
    expect(index.verify(generateToken(), now)).toEqual({ ok: false, reason: 'unknown' });
    expect(index.verify(expired, now)).toMatchObject({ ok: false, reason: 'expired' });
  });
  it('expiry takes effect at the instant it passes', () => {
    expect(index.verify(later, now).ok).toBe(true);
    expect(index.verify(later, now + 1000).ok).toBe(false);
  });
  it('isActive tracks deletion and expiry by id', () => {
    const [a, b] = index.records();
    expect(index.isActive(a.id, now)).toBe(true);
    expect(index.isActive(b.id, now)).toBe(false);
    expect(index.isActive('tok_missing000', now)).toBe(false);
  });
  it('a mistyped token (checksum off) is still refused as bad_checksum, though the checksum is computed only after the lookup fails', () => {
    const last = good[good.length - 1] === 'A' ? 'B' : 'A';
    const typo = good.slice(0, -1) + last;
    expect(parseTokenShape(typo).ok).toBe(true);
    expect(checksumMatches(typo)).toBe(false);
    expect(index.verify(typo, now)).toEqual({ ok: false, reason: 'malformed', detail: 'bad_checksum' });
    // A secret-side typo: the checksum no longer matches the body either.
    const body = good.slice(7, 8) === '0' ? '1' : '0'; // stays below the 128-bit bound
    expect(index.verify('tether_' + body + good.slice(8), now)).toMatchObject({ reason: 'malformed', detail: 'bad_checksum' });
  });
  it('parseToken still checks the checksum (the CLI relies on it)', () => {
    const typo = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect(parseToken(typo)).toEqual({ ok: false, reason: 'malformed', detail: 'bad_checksum' });
    expect(parseToken(good)).toEqual({ ok: true, token: good });
  });
  it('the reused compare buffer never carries one call into the next', () => {
    const other = generateToken();
    for (let i = 0; i < 3; i++) {
      expect(index.verify(good, now).ok).toBe(true);
      expect(index.verify(other, now)).toEqual({ ok: false, reason: 'unknown' });
      expect(index.verify(expired, now)).toMatchObject({ ok: false, reason: 'expired' });
    }
  });
});
