// The per-connection verify memo (src/auth/verify-memo.ts) must answer exactly what parsing and
// verifying the Authorization header answers, whatever a connection presents after a success:
// another token, a near miss, a token deleted or expired since, or the same token after the file
// was reloaded.
import { describe, expect, it } from 'vitest';
import { TokenIndex } from '../../src/auth/verify.js';
import { VerifyMemo, sameSecret } from '../../src/auth/verify-memo.js';
import { credentialFromAuthorization } from '../../src/auth/credential-headers.js';
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

type Answer = { ok: true; id: string; via: string } | { ok: false };

/** The full way, as the guard takes it on a miss: parse the header, verify the token. */
function full(index: TokenIndex, header: string, now: number): Answer & { token?: string } {
  const cred = credentialFromAuthorization(header);
  if (cred.kind !== 'bearer' && cred.kind !== 'basic') return { ok: false };
  const r = index.verify(cred.token, now);
  return r.ok ? { ok: true, id: r.record.id, via: cred.kind } : { ok: false };
}

/** What the guard does (middleware.ts): the memo first, else the full way, remembering a success. */
function decide(memo: VerifyMemo, index: TokenIndex, header: string, conn: object | undefined, now: number): Answer & { hit?: boolean } {
  const hit = memo.lookup(conn, index, header, now);
  if (hit) return { ok: true, id: hit.record.id, via: hit.info.via, hit: true };
  const a = full(index, header, now);
  if (a.ok) memo.remember(conn, index, header, proof(index.get(a.id)!, a.via as 'bearer' | 'basic'));
  return a;
}

/** What the guard remembers with a success. */
function proof(record: TokenRecord, via: 'bearer' | 'basic') {
  const info = { tokenId: record.id, name: record.name, permissions: record.permissions, expiresAt: record.expiresAt, via, scopes: null };
  return { record, info, address: '127.0.0.1' };
}

const bearer = (t: string) => `Bearer ${t}`;
const basic = (t: string) => `Basic ${Buffer.from(`x:${t}`).toString('base64')}`;

describe('VerifyMemo', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('after a success, every one-character change of the header on the same connection is refused', () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const conn = {};
    expect(decide(memo, index, bearer(good), conn, now).ok).toBe(true);
    expect(decide(memo, index, bearer(good), conn, now)).toMatchObject({ ok: true, hit: true });
    const header = bearer(good);
    for (let i = 0; i < header.length; i++) {
      const changed = flip(header, i);
      expect(memo.lookup(conn, index, changed, now)).toBeUndefined();
      expect(decide(memo, index, changed, conn, now)).toEqual(full(index, changed, now));
    }
    // Longer, shorter, empty, the header with junk after it, and another scheme's case.
    for (const other of [header + 'x', header.slice(0, -1), '', `${header} `, `bearer ${good}`]) {
      expect(memo.lookup(conn, index, other, now)).toBeUndefined();
      expect(decide(memo, index, other, conn, now)).toEqual(full(index, other, now));
    }
  });

  it('a token deleted since is refused on the connection that proved it (the reload misses the memo)', () => {
    const good = generateToken();
    const other = generateToken();
    const r1 = rec(good);
    const r2 = rec(other);
    const memo = new VerifyMemo();
    const conn = {};
    expect(decide(memo, indexOf([r1, r2]), bearer(good), conn, now).ok).toBe(true);
    expect(decide(memo, indexOf([r2]), bearer(good), conn, now)).toEqual({ ok: false });
  });

  it("a reload that changes the token's record (narrower permissions, a new hash under the same id) is seen at once", () => {
    const good = generateToken();
    const r1 = rec(good);
    const memo = new VerifyMemo();
    const conn = {};
    expect(decide(memo, indexOf([r1]), bearer(good), conn, now).ok).toBe(true);
    const narrowed = { ...r1, permissions: [] as TokenRecord['permissions'], expiresAt: new Date(now + 60_000).toISOString() };
    const narrowedIndex = indexOf([narrowed]);
    expect(memo.lookup(conn, narrowedIndex, bearer(good), now)).toBeUndefined();
    expect(decide(memo, narrowedIndex, bearer(good), conn, now)).toMatchObject({ ok: true });
    expect(memo.lookup(conn, narrowedIndex, bearer(good), now)?.record).toBe(narrowed);
    // The same id now stands for another secret: the old one is unknown.
    const replaced = { ...r1, hash: hashToken(generateToken()) };
    expect(decide(memo, indexOf([replaced]), bearer(good), conn, now)).toEqual({ ok: false });
  });

  it('a token that expires after it was memoised is refused', () => {
    const good = generateToken();
    const r = rec(good, new Date(now + 1000).toISOString());
    const index = indexOf([r]);
    const memo = new VerifyMemo();
    const conn = {};
    expect(decide(memo, index, bearer(good), conn, now).ok).toBe(true);
    expect(decide(memo, index, bearer(good), conn, now + 999)).toMatchObject({ ok: true, hit: true });
    expect(memo.lookup(conn, index, bearer(good), now + 1000)).toBeUndefined();
    expect(index.verify(good, now + 1000)).toEqual({ ok: false, reason: 'expired', record: r });
  });

  it("one connection's success never admits another connection's header, and no connection never hits", () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const a = {};
    const b = {};
    expect(decide(memo, index, bearer(good), a, now).ok).toBe(true);
    expect(memo.lookup(b, index, bearer(good), now)).toBeUndefined();
    expect(decide(memo, index, bearer(flip(good, 10)), b, now).ok).toBe(false);
    // In-process requests have no socket: remembered nowhere, never a hit.
    memo.remember(undefined, index, bearer(good), proof(index.records()[0], 'bearer'));
    expect(memo.lookup(undefined, index, bearer(good), now)).toBeUndefined();
  });

  it('answers exactly what the full way answers over random sequences of headers, reloads, expiry and connections', () => {
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
        const header = (rand(4) === 0 ? basic : bearer)(base);
        const presented = rand(5) === 0 ? flip(header, rand(header.length)) : header;
        const got = decide(memo, index, presented, conns[rand(conns.length)], t);
        const { hit, ...answer } = got;
        expect(answer).toEqual(full(index, presented, t));
        if (hit) hits++;
      }
    }
    expect(hits).toBeGreaterThan(500); // the sequence did exercise the memo's accepting path
  });

  it('a hit returns the remembered answer, frozen', () => {
    const good = generateToken();
    const index = indexOf([rec(good)]);
    const memo = new VerifyMemo();
    const conn = {};
    decide(memo, index, basic(good), conn, now);
    const first = memo.lookup(conn, index, basic(good), now);
    expect(first).toMatchObject({ info: { via: 'basic' }, address: '127.0.0.1' });
    expect(memo.lookup(conn, index, basic(good), now)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });
});
