// The authorization server's live state, one per server: registered clients (persisted), pending
// authorization requests and codes (memory, minutes), access tokens (memory, an hour).
import { createHash, randomBytes } from 'node:crypto';
import { FailureLimiter } from '../limiter.js';
import type { Permission } from '../permissions.js';
import type { LiveTokens } from '../live-tokens.js';
import { AccessTokens } from './access-tokens.js';
import type { PendingRequest } from './authorize.js';
import { OAuthClients } from './client-store.js';
import { ExpiringMap } from './expiring.js';
import { RetiredRefreshTokens } from './grants.js';
import { CODE_TTL_MS, PENDING_TTL_MS } from './metadata.js';

export const MAX_PENDING = 200;
export const MAX_CODES = 200;

/** What an approved code is bound to; redeemed at most once. */
export interface CodeGrant {
  clientId: string;
  clientName: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  permissions: Permission[];
  scopes: string[] | null;
  /** Set on first redemption: a replay deletes the grant made from it (RFC 6749 4.1.2). */
  redeemedGrantId?: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export interface OAuthStateOptions {
  tokenFile: string;
  clientsFile: string;
  tokens: LiveTokens;
  now?: () => number;
}

export class OAuthState {
  readonly clients: OAuthClients;
  readonly access: AccessTokens;
  /** Rotated-out refresh tokens: one coming back revokes its grant (grants.ts). */
  readonly retired = new RetiredRefreshTokens();
  readonly pending: ExpiringMap<PendingRequest>;
  /** By the code's hash: the code itself is never kept. */
  private readonly codes: ExpiringMap<CodeGrant>;
  /** Registrations per network (the failure limiter's own bookkeeping, counting registrations). */
  readonly registrations = new FailureLimiter(20, 60_000, 10_000);

  constructor(readonly opts: OAuthStateOptions) {
    const now = opts.now ?? Date.now;
    this.clients = new OAuthClients(opts.clientsFile, (clientId) => this.clientHasGrant(clientId));
    this.access = new AccessTokens(undefined, undefined, now);
    this.pending = new ExpiringMap(PENDING_TTL_MS, MAX_PENDING, now);
    this.codes = new ExpiringMap(CODE_TTL_MS, MAX_CODES, now);
  }

  get tokenFile(): string {
    return this.opts.tokenFile;
  }

  private clientHasGrant(clientId: string): boolean {
    return this.opts.tokens
      .fresh()
      .records()
      .some((r) => r.kind === 'oauth' && r.client?.id === clientId);
  }

  newPending(request: PendingRequest): { id: string; expiresMs: number } {
    const id = randomBytes(16).toString('base64url');
    return { id, expiresMs: this.pending.set(id, request) };
  }

  newCode(grant: CodeGrant): string {
    const code = randomBytes(32).toString('base64url');
    this.codes.set(sha256(code), grant);
    return code;
  }

  /** The code's binding; it stays, marked, until it expires so that a replay is recognised. */
  code(code: string): CodeGrant | undefined {
    return typeof code === 'string' && code.length <= 200 ? this.codes.get(sha256(code)) : undefined;
  }
}
