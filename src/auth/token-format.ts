// Token format, generation, parsing and hashing. Pure: no I/O, nothing from the project.
//
//   tether_ + base62(16 random bytes, 22 chars) + base62(CRC32 of the first 29 chars, 6 chars)
//
// The prefix and checksum let people, secret scanners and the server recognise a tether token and
// reject a mistyped one before any lookup (as GitHub's token format does).
// node:crypto and node:zlib load on first use: `tether auth token list` needs neither, and loading
// them costs about 7 ms, against a 1.5x `node -e 0` target of some 45 ms for the whole command.
// The module is kept once loaded: getBuiltinModule itself costs ~150 ns, and hashToken is on the
// request path.
let cryptoModule: typeof import('node:crypto') | undefined;
const crypto = () => (cryptoModule ??= process.getBuiltinModule('node:crypto'));

export const TOKEN_PREFIX = 'tether_';
export const SECRET_BYTES = 16;
const SECRET_CHARS = 22; // 62^22 > 2^128
const CHECKSUM_CHARS = 6; // 62^6 > 2^32
export const TOKEN_LENGTH = TOKEN_PREFIX.length + SECRET_CHARS + CHECKSUM_CHARS; // 35
const BODY_CHARS = TOKEN_PREFIX.length + SECRET_CHARS; // what the checksum covers
export const TOKEN_PATTERN = /^tether_[0-9A-Za-z]{28}$/;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DIGIT[ALPHABET.charCodeAt(i)] = i;
const MAX_SECRET = 1n << 128n;

function encodeBase62(value: bigint, width: number): string {
  let out = '';
  let v = value;
  while (v > 0n) {
    out = ALPHABET[Number(v % 62n)] + out;
    v /= 62n;
  }
  if (out.length > width) throw new RangeError('value too large for width');
  return out.padStart(width, '0');
}

function allBase62(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || DIGIT[c]! < 0) return false;
  }
  return true;
}

// The alphabet is in ASCII order, so for fixed-width strings lexicographic order is numeric order:
// the range check is one string comparison (no BigInt on the request path).
const MAX_SECRET_TEXT = encodeBase62(MAX_SECRET - 1n, SECRET_CHARS);

function checksum(body: string): string {
  let v = process.getBuiltinModule('node:zlib').crc32(body); // < 2^32: plain numbers are exact
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/** Formats a 16-byte secret as a printed token. */
export function formatToken(secret: Uint8Array): string {
  if (secret.length !== SECRET_BYTES) throw new RangeError(`secret must be ${SECRET_BYTES} bytes`);
  const body = TOKEN_PREFIX + encodeBase62(BigInt('0x' + Buffer.from(secret).toString('hex')), SECRET_CHARS);
  return body + checksum(body);
}

/** A new token from the CSPRNG. */
export function generateToken(): string {
  return formatToken(crypto().randomBytes(SECRET_BYTES));
}

export type MalformedDetail = 'not_a_string' | 'wrong_length' | 'wrong_prefix' | 'bad_character' | 'out_of_range' | 'bad_checksum';

export type ParsedToken = { ok: true; token: string } | { ok: false; reason: 'malformed'; detail: MalformedDetail };

const malformed = (detail: MalformedDetail): ParsedToken => ({ ok: false, reason: 'malformed', detail });

/**
 * Validates a candidate token string. Never throws: any input (huge, non-ASCII, not a string)
 * yields a typed result. The length check comes first so oversized input costs nothing.
 */
export function parseToken(input: unknown): ParsedToken {
  const shape = parseTokenShape(input);
  if (!shape.ok) return shape;
  return checksumMatches(shape.token) ? shape : malformed('bad_checksum');
}

/**
 * Every check of parseToken except the checksum. The server's accepting path uses this: a token
 * that is found by its SHA-256 was issued here, so its checksum is right by construction; the CRC32
 * is only needed to explain a rejection (verify.ts computes it when the lookup fails).
 */
export function parseTokenShape(input: unknown): ParsedToken {
  if (typeof input !== 'string') return malformed('not_a_string');
  if (input.length !== TOKEN_LENGTH) return malformed('wrong_length');
  if (!input.startsWith(TOKEN_PREFIX)) return malformed('wrong_prefix');
  if (!allBase62(input, TOKEN_PREFIX.length)) return malformed('bad_character');
  // 22 base62 chars can hold more than 128 bits; only the canonical encoding is a token.
  if (input.slice(TOKEN_PREFIX.length, BODY_CHARS) > MAX_SECRET_TEXT) return malformed('out_of_range');
  return { ok: true, token: input };
}

/** Whether a well-shaped token's last 6 characters are the checksum of the rest. */
export function checksumMatches(token: string): boolean {
  return checksum(token.slice(0, BODY_CHARS)) === token.slice(BODY_CHARS);
}

/** SHA-256 (hex) of the whole token string: what the token file keeps and the server looks up by. */
export function hashToken(token: string): string {
  // One-shot crypto.hash (Node >= 20.12): about 3x cheaper than createHash on the request path.
  return crypto().hash('sha256', token, 'hex');
}

/** Human explanation of a malformed detail (for logs and 401 messages; never contains the input). */
export function describeMalformed(detail: MalformedDetail): string {
  switch (detail) {
    case 'not_a_string':
      return 'token is missing';
    case 'wrong_length':
      return `token must be ${TOKEN_LENGTH} characters (tether_ followed by 28 letters and digits)`;
    case 'wrong_prefix':
      return 'token must start with "tether_"';
    case 'bad_character':
      return 'token may contain only letters and digits after "tether_"';
    case 'out_of_range':
      // What is wrong, not a restatement of "not a token": callers put this after their own frame.
      return 'token is out of range (the 22 characters after "tether_" encode more than 128 bits; mistyped?)';
    case 'bad_checksum':
      return 'token checksum does not match (mistyped or truncated?)';
  }
}
