import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { describeMalformed, formatToken, generateToken, hashToken, parseToken, TOKEN_LENGTH } from '../../src/auth/token-format.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('token format', () => {
  it('10,000 generated tokens are distinct, well-formed and parse', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const t = generateToken();
      expect(t).toMatch(/^tether_[0-9A-Za-z]{28}$/);
      expect(parseToken(t)).toEqual({ ok: true, token: t });
      seen.add(t);
    }
    expect(seen.size).toBe(10_000);
  });

  it('encodes the full 128-bit range at a fixed width', () => {
    const zero = formatToken(new Uint8Array(16));
    const max = formatToken(new Uint8Array(16).fill(255));
    expect(zero).toHaveLength(TOKEN_LENGTH);
    expect(max).toHaveLength(TOKEN_LENGTH);
    expect(zero.startsWith('tether_0000000000000000000000')).toBe(true);
    expect(parseToken(zero).ok).toBe(true);
    expect(parseToken(max).ok).toBe(true);
    expect(() => formatToken(new Uint8Array(15))).toThrow(RangeError);
  });

  it('any single changed character is rejected', () => {
    for (let n = 0; n < 25; n++) {
      const t = generateToken();
      for (let i = 0; i < t.length; i++) {
        for (const c of ALPHABET + '_') {
          if (c === t[i]) continue;
          const bad = t.slice(0, i) + c + t.slice(i + 1);
          const r = parseToken(bad);
          expect(r.ok, `${bad} (position ${i})`).toBe(false);
        }
      }
    }
  });

  it('a secret part above 2^128 is not a token even with a matching checksum', () => {
    // 'z' * 22 decodes to more than 128 bits; give it a correct CRC32 so only the range check can refuse it.
    const body = 'tether_' + 'z'.repeat(22);
    let v = BigInt(crc32(body));
    let sum = '';
    while (v > 0n) {
      sum = ALPHABET[Number(v % 62n)] + sum;
      v /= 62n;
    }
    expect(parseToken(body + sum.padStart(6, '0'))).toEqual({ ok: false, reason: 'malformed', detail: 'out_of_range' });
  });

  const malformed: [string, unknown, string][] = [
    ['empty', '', 'wrong_length'],
    ['huge', 'tether_' + 'a'.repeat(5_000_000), 'wrong_length'],
    ['non-ASCII', 'tether_' + 'é'.repeat(28), 'bad_character'],
    ['emoji', 'tether_' + '😀'.repeat(14), 'bad_character'],
    ['wrong prefix', 'tethex_' + 'a'.repeat(28), 'wrong_prefix'],
    ['upper-case prefix', 'TETHER_' + 'a'.repeat(28), 'wrong_prefix'],
    ['space inside', 'tether_' + 'a'.repeat(13) + ' ' + 'a'.repeat(14), 'bad_character'],
    ['NUL inside', 'tether_' + 'a'.repeat(27) + '\0', 'bad_character'],
    ['percent-encoded', 'tether_' + '%41'.repeat(9) + 'a', 'bad_character'],
    ['number', 42, 'not_a_string'],
    ['null', null, 'not_a_string'],
    ['object', { toString: () => generateToken() }, 'not_a_string'],
    ['array', [generateToken()], 'not_a_string'],
  ];
  for (const [what, input, detail] of malformed) {
    it(`rejects ${what} input without throwing`, () => {
      const r = parseToken(input);
      expect(r).toEqual({ ok: false, reason: 'malformed', detail });
      expect(describeMalformed(r.ok ? 'bad_checksum' : r.detail)).toBeTypeOf('string');
    });
  }

  it('truncated and padded tokens are rejected', () => {
    const t = generateToken();
    expect(parseToken(t.slice(0, -1)).ok).toBe(false);
    expect(parseToken(t + 'a').ok).toBe(false);
    expect(parseToken(' ' + t).ok).toBe(false);
    expect(parseToken(t + '\n').ok).toBe(false);
  });

  it('hashes the whole token string with SHA-256', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const t = generateToken();
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).not.toContain(t.slice(7));
  });
});
