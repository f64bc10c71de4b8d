import { describe, expect, it } from 'vitest';
import { TokenIndex } from '../../src/auth/verify.js';
import { generateToken, hashToken } from '../../src/auth/token-format.js';
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
});
