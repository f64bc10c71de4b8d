// Share links: a share token (kind `share`, read only, bound to one terminal or session, always
// expiring) written through token-admin under the token file's lock, and the link that carries it.
// What a share token reaches is decided by the policy (SHARE_RULES in policy.ts), nowhere else.
import { randomBytes } from 'node:crypto';
import { createToken, type CreatedToken } from './token-admin.js';
import { parseShareExpiry } from './spec.js';
import type { ShareTarget } from './policy.js';
import { tokenFilePath } from './token-file.js';

export interface CreateShareInput {
  target: ShareTarget;
  /** Same syntax as `token create --expires`; default 1h, at most 7 days, never "never". */
  expires?: string;
  /** Default `share-<target id>-<6 hex>`. */
  name?: string;
}

/** Creates the share token. Throws UsageError for a bad expiry or name (nothing is written then). */
export async function createShareToken(input: CreateShareInput, file = tokenFilePath(), now = Date.now()): Promise<CreatedToken> {
  const expiresAt = parseShareExpiry(input.expires, now);
  const name = input.name ?? `share-${input.target.id}-${randomBytes(3).toString('hex')}`;
  return createToken({ name, permissions: ['read'], expiresAt, kind: 'share', target: { type: input.target.type, id: input.target.id } }, file);
}

/** The link: the secret rides in the fragment, which browsers never send to a server (nor in a Referer). */
export function shareLink(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/share#${token}`;
}
