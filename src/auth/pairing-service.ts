// Pairing, end to end, over the token file, the pairing codes and the web logins: what the pairing
// routes call. The decision whether a token may grant what a code asks for is the policy's
// (pairingGrantDecision in policy.ts); this module fills in defaults, resolves scopes, and runs the
// exchange of a code for a device token and its web login.
//
// The device token's secret is generated and dropped here: nobody ever sees it. The device uses the
// token only through its web login, which is why logging that login out deletes the token too.
import fs from 'node:fs/promises';
import { ConflictError, ForbiddenError, TetherError, UsageError } from '../errors.js';
import { deviceNameFromUserAgent } from './device-name.js';
import type { LiveTokens } from './live-tokens.js';
import { PAIRING_REFUSED_MESSAGE, type Claim, type PairingCodes } from './pairing.js';
import { normalizePermissions } from './permissions.js';
import { pairingGrantDecision, pairingScopeRefusal } from './policy.js';
import type { PairingCodeRequest, PairingGrant, TokenRecord } from './shapes.js';
import { createToken, defaultExpiry, deleteTokens } from './token-admin.js';
import { MAX_SCOPE_LENGTH } from './token-record.js';
import type { WebLogins } from './web-logins.js';

/** Refused redemption: one status and message for used, expired, cancelled and unknown codes. */
export class PairingRefused extends TetherError {
  constructor(readonly reason: string) {
    super('pairing_code_invalid', PAIRING_REFUSED_MESSAGE, 410, 1);
  }
}

export interface PairingDeps {
  tokens: LiveTokens;
  codes: PairingCodes;
  logins: WebLogins;
  tokenFile: string;
  now?: () => number;
}

export interface Redeemed {
  pairingId: string;
  creatorTokenId: string;
  record: TokenRecord;
  login: { id: string; key: string; maxAgeS: number };
}

export class PairingService {
  private readonly now: () => number;

  readonly codes: PairingCodes;

  constructor(private readonly deps: PairingDeps) {
    this.now = deps.now ?? Date.now;
    this.codes = deps.codes;
  }

  /**
   * What a code requested by `creator` would grant, defaults filled in from the creator: its own
   * permissions, 90 days (or its own expiry if sooner), its own scopes. Scopes are resolved to real
   * paths of existing directories on this machine. Whether the creator may grant it is the policy's.
   */
  async resolveGrant(creator: TokenRecord, body: PairingCodeRequest, projectDir: string): Promise<PairingGrant> {
    const now = this.now();
    if (
      body.name !== undefined &&
      this.deps.tokens
        .fresh()
        .records()
        .some((r) => r.name === body.name)
    ) {
      throw new ConflictError(`a token named "${body.name}" already exists; choose another --name, or delete that token first`, 'duplicate_name');
    }
    let expiresAt: string | null;
    if (body.expiresAt === undefined) {
      const fallback = defaultExpiry(now);
      expiresAt = creator.expiresAt !== null && Date.parse(creator.expiresAt) < Date.parse(fallback) ? creator.expiresAt : fallback;
    } else {
      expiresAt = body.expiresAt;
      if (expiresAt !== null && Date.parse(expiresAt) <= now)
        throw new UsageError(`expiresAt ${expiresAt} is in the past; give a future date-time, or null for never`);
    }
    if (body.scopes !== undefined) {
      const refused = pairingScopeRefusal(creator, body.scopes, projectDir);
      if (!refused.ok) throw new ForbiddenError(refused.message, refused.code);
    }
    const scopes = body.scopes === undefined ? creator.scopes : await resolveScopes(body.scopes);
    return {
      name: body.name ?? null,
      permissions: normalizePermissions(body.permissions ?? creator.permissions),
      expiresAt,
      ...(scopes !== undefined ? { scopes: [...scopes] } : {}),
    };
  }

  /**
   * Exchanges a code for a new device token (named after the grant, else the browser) and a web
   * login for it. Exactly one of any concurrent redemptions of a code gets this far.
   */
  async redeem(code: string, userAgent: string | undefined): Promise<Redeemed> {
    const claim: Claim = this.deps.codes.claim(code);
    if (!claim.ok) throw new PairingRefused(claim.reason);
    try {
      const index = this.deps.tokens.current();
      const creator = index.get(claim.creatorTokenId);
      // The code is only as good as the token that made it, judged again now.
      if (!creator || !index.isActive(creator.id)) throw new PairingRefused('creator_gone');
      if (!pairingGrantDecision(creator, claim.grant).ok) throw new PairingRefused('creator_cannot_grant');
      const g = claim.grant;
      if (g.expiresAt !== null && Date.parse(g.expiresAt) <= this.now()) throw new PairingRefused('grant_expired');
      const { record } = await createToken(
        {
          name: g.name ?? deviceNameFromUserAgent(userAgent),
          uniqueName: true,
          permissions: g.permissions,
          expiresAt: g.expiresAt,
          ...(g.scopes !== undefined ? { scopes: g.scopes } : {}),
          kind: 'device',
        },
        this.deps.tokenFile,
      );
      // The browser's next request must find the new token.
      this.deps.tokens.refresh();
      let login: Redeemed['login'];
      try {
        login = this.deps.logins.create(record.id, record.expiresAt, { device: true });
      } catch (err) {
        await deleteTokens([record.id], this.deps.tokenFile).catch(() => {});
        throw err;
      }
      this.deps.codes.complete(claim.id, { id: record.id, name: record.name });
      return { pairingId: claim.id, creatorTokenId: claim.creatorTokenId, record, login };
    } catch (err) {
      this.deps.codes.fail(claim.id);
      throw err;
    }
  }

  /**
   * After a web logout: a device token with no login left can never be used again (nobody knows
   * its secret), so it is deleted. Returns the deleted token, or null.
   */
  async endDeviceIfUnused(tokenId: string): Promise<TokenRecord | null> {
    const record = this.deps.tokens.current().get(tokenId);
    if (record?.kind !== 'device' || this.deps.logins.countFor(tokenId) > 0) return null;
    try {
      const [deleted] = await deleteTokens([tokenId], this.deps.tokenFile);
      this.deps.tokens.refresh();
      return deleted ?? null;
    } catch {
      return null; // deleted meanwhile (`auth token delete`): nothing left to do
    }
  }
}

/** Each scope as the real path of an existing directory; the message names the one that is not. */
async function resolveScopes(scopes: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const s of scopes) {
    let real: string;
    try {
      real = await fs.realpath(s);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(
        `scope ${s} ${code === 'ENOENT' ? 'does not exist' : `cannot be resolved (${code ?? 'error'})`} on the server; give existing directories`,
        'bad_scope',
      );
    }
    if (!(await fs.stat(real)).isDirectory()) throw new UsageError(`scope ${s} is not a directory; give existing directories`, 'bad_scope');
    if (real.length > MAX_SCOPE_LENGTH) throw new UsageError(`scope ${s}: its real path is longer than ${MAX_SCOPE_LENGTH} characters`, 'bad_scope');
    if (!out.includes(real)) out.push(real);
  }
  return out;
}
