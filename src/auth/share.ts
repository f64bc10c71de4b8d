// Share links: a share token (kind `share`, read only, bound to one terminal or session, always
// expiring) written through token-admin under the token file's lock, and the link that carries it.
// What a share token reaches is decided by the policy (SHARE_RULES in policy.ts), nowhere else.
import { randomBytes } from 'node:crypto';
import { ConflictError, ForbiddenError } from '../errors.js';
import { createToken, type CreatedToken } from './token-admin.js';
import { parseShareExpiry } from './spec.js';
import { shareExpiryDecision, type ShareTarget } from './policy.js';
import { readTokenFile, tokenFilePath, updateTokenFile } from './token-file.js';
import { isExpired } from './token-record.js';

/** Live (unexpired) share tokens the file may hold; one more is refused (409 too_many_shares). */
export const MAX_SHARE_TOKENS = 256;

export interface CreateShareInput {
  target: ShareTarget;
  /** Same syntax as `token create --expires`; default 1h, at most 7 days, never "never". */
  expires?: string;
  /** Default `share-<target id>-<6 hex>`. */
  name?: string;
  /** The creating token's expiry: the default is cut to it, and a longer asked-for one is refused
   * (shareExpiryDecision in the policy): a link never outlives the token that made it. */
  creatorExpiresAt?: string | null;
}

/** Creates the share token. Throws UsageError for a bad expiry or name (nothing is written then). */
export async function createShareToken(input: CreateShareInput, file = tokenFilePath(), now = Date.now(), max = MAX_SHARE_TOKENS): Promise<CreatedToken> {
  let expiresAt = parseShareExpiry(input.expires, now);
  const until = input.creatorExpiresAt ?? null;
  if (input.expires === undefined && until !== null && Date.parse(until) < Date.parse(expiresAt)) expiresAt = until;
  const decision = shareExpiryDecision(until, expiresAt);
  if (!decision.ok) throw new ForbiddenError(decision.message, decision.code);
  await makeRoom(file, now, max);
  const name = input.name ?? `share-${input.target.id}-${randomBytes(3).toString('hex')}`;
  return createToken({ name, permissions: ['read'], expiresAt, kind: 'share', target: { type: input.target.type, id: input.target.id } }, file);
}

/** The link: the secret rides in the fragment, which browsers never send to a server (nor in a Referer). */
export function shareLink(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/share#${token}`;
}

/**
 * Share tokens expire within a week and can never be renewed, so the expired ones are dropped from
 * the file when the next one is made (other tokens are never touched); and the live ones are capped.
 */
async function makeRoom(file: string, now: number, max: number): Promise<void> {
  const shares = (await readTokenFile(file)).tokens.filter((t) => t.kind === 'share');
  const expired = shares.filter((t) => isExpired(t, now)).length;
  if (expired > 0) {
    await updateTokenFile(file, (data) => {
      data.tokens = data.tokens.filter((t) => t.kind !== 'share' || !isExpired(t, now));
      return { data, result: undefined };
    });
  }
  if (shares.length - expired >= max) {
    throw new ConflictError(
      `there are already ${max} live share links, the most this server keeps; delete some (\`tether auth token list\`, then \`tether auth token delete ID\`) or let them expire`,
      'too_many_shares',
    );
  }
}
