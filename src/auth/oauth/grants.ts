// OAuth grants: token-file records of kind `oauth`, one per approved client authorization, so
// `tether auth token list` shows each and `tether auth token delete` revokes it. A grant's `hash`
// is the SHA-256 of its current refresh token: redeeming it replaces the hash under the token-file
// lock, so the old refresh token stops working the moment the new one exists, and two concurrent
// redemptions of one token cannot both succeed.
import { randomInt } from 'node:crypto';
import { generateToken, hashToken, parseToken } from '../token-format.js';
import type { Permission } from '../permissions.js';
import type { TokenRecord } from '../shapes.js';
import { updateTokenFile } from '../token-file.js';
import { isExpired } from '../token-record.js';
import { GRANT_TTL_MS } from './metadata.js';

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const newId = () => 'tok_' + Array.from({ length: 10 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');

/** A token name from a client's name: `oauth-<letters and digits of it>`, unique in the file. */
export function grantName(clientName: string, taken: ReadonlySet<string>): string {
  const slug =
    clientName
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 40) || 'client';
  const base = `oauth-${slug}`;
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

export interface GrantInput {
  client: { id: string; name: string; redirectHost: string };
  permissions: Permission[];
  scopes: string[] | null;
  audience: string;
}

export async function createGrant(file: string, input: GrantInput, now = Date.now()): Promise<{ refreshToken: string; record: TokenRecord }> {
  const refreshToken = generateToken();
  const record = await updateTokenFile(file, (data) => {
    const ids = new Set(data.tokens.map((t) => t.id));
    let id = newId();
    while (ids.has(id)) id = newId();
    const rec: TokenRecord = {
      id,
      name: grantName(input.client.name, new Set(data.tokens.map((t) => t.name))),
      hash: hashToken(refreshToken),
      permissions: [...input.permissions],
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + GRANT_TTL_MS).toISOString(),
      lastUsedAt: null,
      ...(input.scopes !== null && { scopes: [...input.scopes] }),
      kind: 'oauth',
      client: { ...input.client },
      audience: input.audience,
    };
    data.tokens.push(rec);
    return { data, result: rec };
  });
  return { refreshToken, record };
}

export type RotateResult =
  | { ok: true; refreshToken: string; record: TokenRecord }
  | { ok: false; description: string; /** The grant revoked because a rotated refresh token came back. */ revoked?: string };

/** Thrown inside the token-file update to leave the file untouched (a refused redemption writes nothing). */
class Refused extends Error {}

/**
 * Hashes of rotated-out refresh tokens, with their grant's id (memory only, bounded). A rotated
 * token coming back means two parties hold the grant's tokens, and the server cannot tell which is
 * the thief: the grant is revoked (OAuth 2.1 section 4.3.1; RFC 9700 section 4.14.2).
 */
export class RetiredRefreshTokens {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 10_000) {}
  add(hash: string, grantId: string): void {
    this.map.delete(hash);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(hash, grantId);
  }
  grantOf(hash: string): string | undefined {
    return this.map.get(hash);
  }
}

/** Redeems a refresh token for a new one (the old one dies). The grant must belong to `clientId`. */
export async function rotateRefreshToken(
  file: string,
  presented: unknown,
  clientId: string,
  now = Date.now(),
  retired?: RetiredRefreshTokens,
): Promise<RotateResult> {
  const parsed = parseToken(presented);
  if (!parsed.ok) return { ok: false, description: 'the refresh token is malformed' };
  const oldHash = hashToken(parsed.token);
  const refreshToken = generateToken();
  try {
    return await updateTokenFile(file, (data) => {
      const rec = data.tokens.find((t) => t.kind === 'oauth' && t.hash === oldHash);
      if (!rec) {
        // A rotated-out token replayed (by anyone, for any client): the grant ends.
        const grantId = retired?.grantOf(oldHash);
        const i = grantId === undefined ? -1 : data.tokens.findIndex((t) => t.id === grantId && t.kind === 'oauth');
        if (i >= 0) {
          data.tokens.splice(i, 1);
          const result: RotateResult = {
            ok: false,
            description: 'this refresh token was already used once: someone else may hold the grant, so it is revoked; authorize the client again',
            revoked: grantId!,
          };
          return { data, result };
        }
      }
      // Unknown, the grant deleted, or another client's: all the same answer.
      if (!rec || rec.client?.id !== clientId) throw new Refused('the refresh token is not valid (rotated, revoked or never issued)');
      if (isExpired(rec, now)) throw new Refused('the grant has expired; authorize the client again');
      rec.hash = hashToken(refreshToken);
      retired?.add(oldHash, rec.id);
      return { data, result: { ok: true, refreshToken, record: structuredClone(rec) } as RotateResult };
    });
  } catch (err) {
    if (err instanceof Refused) return { ok: false, description: err.message };
    throw err;
  }
}
