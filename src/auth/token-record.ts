// The token file's format and its validation. Pure: token-file.ts does the I/O. A record's shape is
// TokenRecordSchema (shapes.ts); this checks records with plain code, on the same predicates, so the
// CLI never loads zod (a test holds the two to the same answers), and names the exact problem.
import { isPermission } from './permissions.js';
import type { TokenRecord } from './shapes.js';

export const TOKEN_FILE_VERSION = 1;

export interface TokenFile {
  version: typeof TOKEN_FILE_VERSION;
  tokens: TokenRecord[];
}

export const ID_PATTERN = /^tok_[0-9a-z]{10}$/;
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NAME_RULE = '1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit, not starting with "tok_"';
export const HASH_PATTERN = /^[0-9a-f]{64}$/;
const RECORD_KEYS = new Set(['id', 'name', 'hash', 'permissions', 'createdAt', 'expiresAt', 'lastUsedAt']);

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
  if (obj.version !== TOKEN_FILE_VERSION) {
    return `it has version ${JSON.stringify(obj.version)}, but this tether understands only version ${TOKEN_FILE_VERSION} (was it written by a newer tether?)`;
  }
  if (!Array.isArray(obj.tokens)) return '"tokens" is not an array';
  const ids = new Set<string>();
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (let i = 0; i < obj.tokens.length; i++) {
    const problem = validateRecord(obj.tokens[i]);
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

function validateRecord(r: unknown): string | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return 'is not an object';
  const rec = r as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (!RECORD_KEYS.has(k)) return `has an unknown field "${k}"`;
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
  return null;
}

export function isExpired(r: Pick<TokenRecord, 'expiresAt'>, now = Date.now()): boolean {
  return r.expiresAt !== null && Date.parse(r.expiresAt) <= now;
}
