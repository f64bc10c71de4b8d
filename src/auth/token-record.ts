// The token file's format and its validation. Pure: token-file.ts does the I/O. A record's shape is
// TokenRecordSchema (shapes.ts); this checks records with plain code, on the same predicates, so the
// CLI never loads zod (a test holds the two to the same answers), and names the exact problem.
import { isPermission } from './permissions.js';
import type { TokenRecord } from './shapes.js';

/** Written as 2. Version 1 files (no scopes, kinds or targets) are read as before; the next change
 * rewrites them as version 2, which an older tether refuses by name rather than misreading. */
export const TOKEN_FILE_VERSION = 2;
const READABLE_VERSIONS: readonly unknown[] = [1, 2];

export interface TokenFile {
  version: 1 | 2;
  tokens: TokenRecord[];
}

/** What a token is for. Absent: an ordinary token made by `tether auth token create`. `oauth`: a
 * grant to an OAuth client (src/auth/oauth/); its hash is its current refresh token's, and it never
 * authenticates as a bearer token itself (verify.ts keeps it out of the hash lookup). */
export const TOKEN_KINDS = ['share', 'device', 'oauth'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];
/** What a share token is bound to. */
export const SHARE_TARGET_TYPES = ['pty', 'session'] as const;
export type ShareTargetType = (typeof SHARE_TARGET_TYPES)[number];
export const MAX_SCOPES = 16;
export const MAX_SCOPE_LENGTH = 4096;
/** A share target's id: the pty and session id alphabets. */
export const TARGET_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ADDRESS_MAX = 64;
/** An OAuth client id (src/auth/oauth/registration.ts makes them). */
export const CLIENT_ID_PATTERN = /^client_[0-9A-Za-z_-]{22}$/;
export const CLIENT_NAME_MAX = 100;
export const HOST_MAX = 255;
export const AUDIENCE_MAX = 2048;

export const ID_PATTERN = /^tok_[0-9a-z]{10}$/;
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NAME_RULE = '1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit, not starting with "tok_"';
export const HASH_PATTERN = /^[0-9a-f]{64}$/;
const V1_KEYS = ['id', 'name', 'hash', 'permissions', 'createdAt', 'expiresAt', 'lastUsedAt'];
const RECORD_KEYS: Record<1 | 2, ReadonlySet<string>> = {
  1: new Set(V1_KEYS),
  2: new Set([...V1_KEYS, 'scopes', 'kind', 'target', 'lastUsedFrom', 'client', 'audience']),
};

/** A scope: an absolute path (stored as the real path), no NUL, not the root of nothing. */
export function isScopePath(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_SCOPE_LENGTH && v.startsWith('/') && !v.includes('\0');
}

export function isTokenKind(v: unknown): v is TokenKind {
  return (TOKEN_KINDS as readonly unknown[]).includes(v);
}

export function isShareTarget(v: unknown): v is { type: ShareTargetType; id: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  return Object.keys(t).length === 2 && (SHARE_TARGET_TYPES as readonly unknown[]).includes(t.type) && typeof t.id === 'string' && TARGET_ID_PATTERN.test(t.id);
}

/** Printable text (no control characters, no line or bidi controls): what a client's name may be once sanitized. */
export function isDisplayText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max && !/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/u.test(v);
}

/** An OAuth grant's client: {id, name, redirectHost}. */
export function isGrantClient(v: unknown): v is { id: string; name: string; redirectHost: string } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  return (
    Object.keys(t).length === 3 &&
    typeof t.id === 'string' &&
    CLIENT_ID_PATTERN.test(t.id) &&
    isDisplayText(t.name, CLIENT_NAME_MAX) &&
    isDisplayText(t.redirectHost, HOST_MAX)
  );
}

/** An OAuth grant's audience: the resource URL it was issued for. */
export function isAudience(v: unknown): v is string {
  return typeof v === 'string' && v.length <= AUDIENCE_MAX && /^https?:\/\/[^\s]+$/.test(v);
}

export function emptyTokenFile(): TokenFile {
  return { version: TOKEN_FILE_VERSION, tokens: [] };
}

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.startsWith('tok_');
}

export function hasUniqueItems(items: readonly unknown[]): boolean {
  return new Set(items).size === items.length;
}

export function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && v.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
}

/** Returns a problem description, or null when `data` is a valid token file. */
export function validateTokenFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the top level is not a JSON object';
  const obj = data as Record<string, unknown>;
  if (!('version' in obj)) return 'it has no "version" field';
  if (!READABLE_VERSIONS.includes(obj.version)) {
    return `it has version ${JSON.stringify(obj.version)}, but this tether understands only versions ${READABLE_VERSIONS.join(' and ')} (was it written by a newer tether?)`;
  }
  const version = obj.version as 1 | 2;
  if (!Array.isArray(obj.tokens)) return '"tokens" is not an array';
  const ids = new Set<string>();
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (let i = 0; i < obj.tokens.length; i++) {
    const problem = validateRecord(obj.tokens[i], version);
    const where = `token record #${i + 1}`;
    if (problem) return `${where} ${problem}`;
    const r = obj.tokens[i] as TokenRecord;
    if (ids.has(r.id)) return `${where} repeats id "${r.id}"`;
    if (names.has(r.name)) return `${where} repeats name "${r.name}"`;
    if (hashes.has(r.hash)) return `${where} repeats the hash of another record`;
    ids.add(r.id);
    names.add(r.name);
    hashes.add(r.hash);
  }
  return null;
}

function validateRecord(r: unknown, version: 1 | 2): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'is not an object';
  const rec = r as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (!RECORD_KEYS[version].has(k)) return `has an unknown field "${k}"`;
  if (typeof rec.id !== 'string' || !ID_PATTERN.test(rec.id)) return 'has a missing or invalid "id"';
  if (typeof rec.name !== 'string' || !isValidName(rec.name)) return `(${rec.id}) has an invalid "name"`;
  if (typeof rec.hash !== 'string' || !HASH_PATTERN.test(rec.hash)) return `(${rec.id}) has an invalid "hash"`;
  const p = rec.permissions;
  if (!Array.isArray(p) || p.length === 0 || !p.every(isPermission) || !hasUniqueItems(p)) {
    return `(${rec.id}) has invalid "permissions" (a non-empty list of read, write, execute)`;
  }
  if (!isIsoDate(rec.createdAt)) return `(${rec.id}) has an invalid "createdAt"`;
  if (rec.expiresAt !== null && !isIsoDate(rec.expiresAt)) return `(${rec.id}) has an invalid "expiresAt" (an ISO date-time or null)`;
  if (rec.lastUsedAt !== null && !isIsoDate(rec.lastUsedAt)) return `(${rec.id}) has an invalid "lastUsedAt"`;
  return validateV2Fields(rec);
}

/** The version 2 fields, all optional. */
function validateV2Fields(rec: Record<string, unknown>): string | null {
  const id = String(rec.id);
  if (rec.scopes !== undefined) {
    const sc = rec.scopes;
    if (!Array.isArray(sc) || sc.length === 0 || sc.length > MAX_SCOPES || !sc.every(isScopePath) || !hasUniqueItems(sc)) {
      return `(${id}) has invalid "scopes" (1-${MAX_SCOPES} distinct absolute paths)`;
    }
  }
  if (rec.kind !== undefined && !isTokenKind(rec.kind)) return `(${id}) has an invalid "kind" (one of ${TOKEN_KINDS.join(', ')}, or absent)`;
  if (rec.target !== undefined) {
    if (rec.kind !== 'share' || !isShareTarget(rec.target)) return `(${id}) has an invalid "target" (only a share token has one: {type: pty|session, id})`;
  } else if (rec.kind === 'share') {
    return `(${id}) is a share token without a "target"`;
  }
  if (rec.kind === 'share' && !(Array.isArray(rec.permissions) && rec.permissions.length === 1 && rec.permissions[0] === 'read')) {
    return `(${id}) is a share token with permissions other than read`;
  }
  const oauth = rec.kind === 'oauth';
  if (rec.client !== undefined ? !oauth || !isGrantClient(rec.client) : oauth) {
    return `(${id}) has an invalid "client" (only an oauth grant has one, and it must: {id, name, redirectHost})`;
  }
  if (rec.audience !== undefined ? !oauth || !isAudience(rec.audience) : oauth) {
    return `(${id}) has an invalid "audience" (only an oauth grant has one, and it must: the resource URL)`;
  }
  if (rec.lastUsedFrom !== undefined && rec.lastUsedFrom !== null && !(typeof rec.lastUsedFrom === 'string' && rec.lastUsedFrom.length <= ADDRESS_MAX)) {
    return `(${id}) has an invalid "lastUsedFrom"`;
  }
  return null;
}

export function isExpired(r: Pick<TokenRecord, 'expiresAt'>, now = Date.now()): boolean {
  return r.expiresAt !== null && Date.parse(r.expiresAt) <= now;
}
