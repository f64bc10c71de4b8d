// The per-connection verify memo (src/auth/verify-memo.ts) must answer exactly what a full verify
// answers, whatever a connection presents after a success: another token, a near miss, a token
// deleted or expired since, or the same token after the file was reloaded.
import { describe, expect, it } from 'vitest';
import { TokenIndex } from '../../src/auth/verify.js';
import { VerifyMemo, sameSecret } from '../../src/auth/verify-memo.js';
import { generateToken, hashToken } from '../../src/auth/token-format.js';
import type { TokenRecord } from '../../src/auth/shapes.js';

let seq = 0;
function rec(token: string, expiresAt: string | null = null): TokenRecord {
  seq++;
  return {
    id: `tok_${String(seq).padStart(10, '0')}`,
    name: `t${seq}`,
    hash: hashToken(token),
    permissions: ['read'],
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt,
    lastUsedAt: null,
  };
}
const indexOf = (records: TokenRecord[]) => new TokenIndex({ version: 1, tokens: records });

/** The token with character `i` changed to another base62 character. */
function flip(token: string, i: number): string {
  const c = token[i] === 'a' ? 'b' : 'a';
  return token.slice(0, i) + c + token.slice(i + 1);
}

describe('sameSecret', () => {
  it('is equality, for equal and unequal lengths and any characters', () => {
    expect(sameSecret('', '')).toBe(true);
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'ab')).toBe(false);
    expect(sameSecret('ab', 'abc')).toBe(false);
    // Characters whose codes differ only above the low byte are still different.
    expect(sameSecret('\u0161', '\u0061')).toBe(false);
    expect(sameSecret('\u{1F600}x', '\u{1F600}x')).toBe(true);
    const t = generateToken();
    for (let i = 0; i < t.length; i++) expect(sameSecret(t, flip(t, i))).toBe(false);
  });
});

describe('VerifyMemo', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('after a success, every one-character change of the token on the same connection is refused', () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const conn = {};
    expect(memo.verify(index, good, conn, now).ok).toBe(true);
    for (let i = 0; i < good.length; i++) {
      const r = memo.verify(index, flip(good, i), conn, now);
      expect(r).toEqual(index.verify(flip(good, i), now));
      expect(r.ok).toBe(false);
    }
    // Longer, shorter, empty and the token with junk after it.
    for (const bad of [good + 'x', good.slice(0, -1), '', `${good} `]) expect(memo.verify(index, bad, conn, now).ok).toBe(false);
    expect(memo.verify(index, good, conn, now).ok).toBe(true);
  });

  it('a token deleted since is refused on the connection that proved it (the reload misses the memo)', () => {
    const good = generateToken();
    const other = generateToken();
    const r1 = rec(good);
    const r2 = rec(other);
    const memo = new VerifyMemo();
    const conn = {};
    expect(memo.verify(indexOf([r1, r2]), good, conn, now).ok).toBe(true);
    expect(memo.verify(indexOf([r2]), good, conn, now)).toEqual({ ok: false, reason: 'unknown' });
  });

  it("a reload that changes the token's record (narrower permissions, a new hash under the same id) is seen at once", () => {
    const good = generateToken();
    const r1 = rec(good);
    const memo = new VerifyMemo();
    const conn = {};
    expect(memo.verify(indexOf([r1]), good, conn, now)).toMatchObject({ ok: true, record: { permissions: ['read'] } });
    const narrowed = { ...r1, permissions: [] as TokenRecord['permissions'], expiresAt: new Date(now + 60_000).toISOString() };
    const after = memo.verify(indexOf([narrowed]), good, conn, now);
    expect(after).toEqual({ ok: true, record: narrowed });
    // The same id now stands for another secret: the old one is unknown.
    const replaced = { ...r1, hash: hashToken(generateToken()) };
    expect(memo.verify(indexOf([replaced]), good, conn, now)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('a token that expires after it was memoised is refused as expired', () => {
    const good = generateToken();
    const r = rec(good, new Date(now + 1000).toISOString());
    const index = indexOf([r]);
    const memo = new VerifyMemo();
    const conn = {};
    expect(memo.verify(index, good, conn, now).ok).toBe(true);
    expect(memo.verify(index, good, conn, now + 999).ok).toBe(true);
    expect(memo.verify(index, good, conn, now + 1000)).toEqual({ ok: false, reason: 'expired', record: r });
  });

  it("one connection's success never admits another connection's token", () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const a = {};
    const b = {};
    expect(memo.verify(index, good, a, now).ok).toBe(true);
    expect(memo.verify(index, flip(good, 10), b, now).ok).toBe(false);
    expect(memo.verify(index, generateToken(), b, now)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('answers exactly what a full verify answers over random sequences of tokens, reloads, expiry and connections', () => {
    // A deterministic generator, so a failure reproduces.
    let s = 12345;
    const rand = (n: number) => ((s = (s * 1103515245 + 12345) % 2147483648), s % n);
    const tokens = Array.from({ length: 6 }, () => generateToken());
    const records = tokens.map((t, i) => rec(t, i % 3 === 0 ? new Date(now + 500 + i * 100).toISOString() : null));
    const conns = [{}, {}, {}, undefined];
    const memo = new VerifyMemo();
    let index = indexOf(records);
    let t = now;
    let hits = 0;
    for (let step = 0; step < 5000; step++) {
      const op = rand(20);
      if (op === 0)
        index = indexOf(records.filter(() => rand(3) !== 0)); // some tokens deleted
      else if (op === 1)
        index = indexOf(records); // all back (a new version of the file)
      else if (op === 2) t += rand(200);
      else {
        const base = tokens[rand(tokens.length)];
        const presented = rand(5) === 0 ? flip(base, rand(base.length)) : base;
        const conn = conns[rand(conns.length)];
        const got = memo.verify(index, presented, conn, t);
        expect(got).toEqual(index.verify(presented, t));
        if (got.ok) hits++;
      }
    }
    expect(hits).toBeGreaterThan(500); // the sequence did exercise the accepting path
  });

  it('returns the memoised answer on a hit (no re-verify), and a frozen one', () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const conn = {};
    const first = memo.verify(index, good, conn, now);
    const second = memo.verify(index, good, conn, now);
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    // Without a connection (in-process), every call is a fresh verify.
    expect(memo.verify(index, good, undefined, now)).not.toBe(memo.verify(index, good, undefined, now));
  });
});
