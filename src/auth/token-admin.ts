// Token administration (create, list, delete) over the token file. Used by the CLI and by
// `serve`'s first-run token. Returns data; printing is the CLI's job.
import { ConflictError, NotFoundError, UsageError } from '../errors.js';
import { generateToken, hashToken } from './token-format.js';
import type { TokenRecord } from './shapes.js';
import { ADDRESS_MAX, NAME_RULE, isExpired, isValidName } from './token-record.js';
import { readTokenFile, tokenFilePath, updateTokenFile } from './token-file.js';
import type { Permission } from './permissions.js';

export const DEFAULT_EXPIRY_DAYS = 90;

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
function newId(): string {
  let s = 'tok_';
  for (let i = 0; i < 10; i++) s += ID_ALPHABET[process.getBuiltinModule('node:crypto').randomInt(ID_ALPHABET.length)];
  return s;
}

export interface CreateTokenInput {
  name?: string;
  permissions: Permission[];
  /** ISO 8601 or null for never. */
  expiresAt: string | null;
  /** Absolute real paths the token is confined to (the caller resolves them); absent = everything. */
  scopes?: string[];
  /** A share token (read only, bound to `target`) or a paired device's token. */
  kind?: TokenRecord['kind'];
  target?: TokenRecord['target'];
  /** If `name` is taken, use the first free `name-2`, `name-3`, ... instead of refusing (pairing
   * names devices after their browser: two phones are both "Chrome-on-Android"). */
  uniqueName?: boolean;
}

export interface CreatedToken {
  token: string;
  record: TokenRecord;
}

export async function createToken(input: CreateTokenInput, file = tokenFilePath()): Promise<CreatedToken> {
  if (input.name !== undefined && !isValidName(input.name)) {
    throw new UsageError(`invalid token name "${input.name}"; a name is ${NAME_RULE}`);
  }
  if (input.permissions.length === 0) throw new UsageError('a token needs at least one permission');
  const token = generateToken();
  const record = await updateTokenFile(file, (data) => {
    const names = new Set(data.tokens.map((t) => t.name));
    let name = input.name;
    if (name !== undefined && input.uniqueName) name = freeName(name, names);
    if (name !== undefined && names.has(name)) {
      throw new UsageError(`a token named "${input.name}" already exists; choose another name or delete it first`, 'duplicate_name');
    }
    for (let n = data.tokens.length + 1; name === undefined; n++) if (!names.has(`token-${n}`)) name = `token-${n}`;
    const ids = new Set(data.tokens.map((t) => t.id));
    let id = newId();
    while (ids.has(id)) id = newId();
    const rec: TokenRecord = {
      id,
      name,
      hash: hashToken(token),
      permissions: [...input.permissions],
      createdAt: new Date().toISOString(),
      expiresAt: input.expiresAt,
      lastUsedAt: null,
      ...(input.scopes !== undefined && { scopes: [...input.scopes] }),
      ...(input.kind !== undefined && { kind: input.kind }),
      ...(input.target !== undefined && { target: { ...input.target } }),
    };
    data.tokens.push(rec);
    return { data, result: rec };
  });
  return { token, record };
}

/** `base`, or `base-N` with the smallest N >= 2 that is free (cut to fit the 64-character limit). */
function freeName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const name = base.slice(0, 64 - suffix.length) + suffix;
    if (!taken.has(name)) return name;
  }
}

export type TokenStatus = 'active' | 'expired';

export interface ListedToken extends Omit<TokenRecord, 'hash'> {
  status: TokenStatus;
}

export async function listTokens(file = tokenFilePath(), now = Date.now()): Promise<ListedToken[]> {
  const data = await readTokenFile(file);
  return data.tokens.map(({ hash: _hash, ...rest }) => ({ ...rest, status: isExpired(rest, now) ? 'expired' : 'active' }));
}

/** Deletes all the named tokens, or none: any unknown or ambiguous argument aborts the whole change. */
export async function deleteTokens(refs: string[], file = tokenFilePath()): Promise<TokenRecord[]> {
  if (refs.length === 0) throw new UsageError('name at least one token id or name to delete');
  return updateTokenFile(file, (data) => {
    const chosen = new Map<string, TokenRecord>();
    for (const ref of refs) {
      const matches = data.tokens.filter((t) => t.id === ref || t.name === ref);
      if (matches.length === 0) {
        throw new NotFoundError(`no token has id or name "${ref}"; nothing was deleted (see \`tether auth token list\`)`);
      }
      if (matches.length > 1) {
        throw new ConflictError(`"${ref}" matches more than one token (${matches.map((m) => m.id).join(', ')}); use the id; nothing was deleted`, 'ambiguous');
      }
      chosen.set(matches[0]!.id, matches[0]!);
    }
    data.tokens = data.tokens.filter((t) => !chosen.has(t.id));
    return { data, result: [...chosen.values()] };
  });
}

/** Records last-use times and the address each use came from (server, batched). Tokens deleted
 * meanwhile are not resurrected. */
export async function recordLastUsed(times: Map<string, string | { at: string; from?: string }>, file = tokenFilePath()): Promise<void> {
  await updateTokenFile(file, (data) => {
    for (const t of data.tokens) {
      const got = times.get(t.id);
      const use = typeof got === 'string' ? { at: got } : got;
      if (!use || (t.lastUsedAt !== null && t.lastUsedAt >= use.at)) continue;
      t.lastUsedAt = use.at;
      if (use.from !== undefined) t.lastUsedFrom = use.from.slice(0, ADDRESS_MAX);
    }
    return { data, result: undefined };
  });
}

export function defaultExpiry(now = Date.now()): string {
  return new Date(now + DEFAULT_EXPIRY_DAYS * 86_400_000).toISOString();
}
