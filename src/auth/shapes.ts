// The auth domain's data shapes as zod schemas, one definition each; the types derive from them.
// The routes document and validate with these (OpenAPI), the client imports the types (type-only),
// and the token file's records are TokenRecord.
//
// The token file is read by `tether auth token ...` too, which must start fast, and zod costs more
// to load than the whole command; so token-record.ts checks records with its own plain code, built
// on the same predicates as TokenRecordSchema, and a test holds the two to accepting the same records.
import { z } from 'zod';
import { WEB_LOGIN_KEY_HEADER, WEB_LOGIN_KEY_PROTOCOL_PREFIX } from './credential-headers.js';
import { PERMISSIONS } from './permissions.js';
import {
  ADDRESS_MAX,
  HASH_PATTERN,
  ID_PATTERN,
  MAX_SCOPES,
  NAME_RULE,
  SHARE_TARGET_TYPES,
  TARGET_ID_PATTERN,
  TOKEN_KINDS,
  hasUniqueItems,
  isIsoDate,
  isScopePath,
  isValidName,
} from './token-record.js';

export const PermissionSchema = z.enum(PERMISSIONS);

const isoDateTime = z.string().refine(isIsoDate, 'expected an ISO 8601 date-time');

/** One record of the token file. Never the secret: `hash` is the SHA-256 of the whole token. */
export const TokenRecordSchema = z
  .object({
    /** Public identifier for list/delete and logs. Never secret. */
    id: z.string().regex(ID_PATTERN),
    name: z.string().refine(isValidName, `a name is ${NAME_RULE}`),
    /** SHA-256 hex of the whole token string. */
    hash: z.string().regex(HASH_PATTERN),
    permissions: z.array(PermissionSchema).min(1).refine(hasUniqueItems, 'a permission may appear once'),
    createdAt: isoDateTime,
    /** null for a token that never expires. */
    expiresAt: isoDateTime.nullable(),
    lastUsedAt: isoDateTime.nullable(),
    /** Version 2: the directories (absolute real paths) the token is confined to; absent = the whole project. */
    scopes: z.array(z.string().refine(isScopePath, 'an absolute path')).min(1).max(MAX_SCOPES).refine(hasUniqueItems, 'a scope may appear once').optional(),
    /** Version 2: absent for an ordinary token; `share` (bound to `target`, read only) or `device` (made by pairing). */
    kind: z.enum(TOKEN_KINDS).optional(),
    /** Version 2: the one terminal or session a share token may watch. */
    target: z
      .object({ type: z.enum(SHARE_TARGET_TYPES), id: z.string().regex(TARGET_ID_PATTERN) })
      .strict()
      .optional(),
    /** Version 2: the client address of the last use (the server records it with lastUsedAt). */
    lastUsedFrom: z.string().max(ADDRESS_MAX).nullable().optional(),
  })
  .strict()
  .refine((r) => (r.kind === 'share') === (r.target !== undefined), 'a share token has a target, and only a share token')
  .refine((r) => r.kind !== 'share' || (r.permissions.length === 1 && r.permissions[0] === 'read'), 'a share token is read only');
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

const record = TokenRecordSchema.shape;

/** `GET /auth/whoami`: the calling token, as the guard authenticated it. */
export const WhoamiSchema = z.object({
  /** null only with --no-auth. */
  id: record.id.nullable(),
  name: record.name,
  permissions: record.permissions,
  expiresAt: record.expiresAt,
  /** How the credential came (bearer, basic, cookie, websocket-protocol, ticket, none): a string, so
   * that clients keep working when a way is added. */
  authenticatedBy: z.string(),
  /** Only for a scoped token: the directories it is confined to. */
  scopes: record.scopes,
  /** Only for a share token: `share`, and the one terminal or session it may watch. */
  kind: record.kind,
  target: record.target,
});
export type Whoami = z.infer<typeof WhoamiSchema>;

/** `POST /auth/session`: the web UI's login exchange (web-logins.ts). */
export const WebLoginRequestSchema = z.object({ token: z.string().min(1).max(512) }).strict();
export type WebLoginRequest = z.infer<typeof WebLoginRequestSchema>;

export const WebLoginResultSchema = z.object({
  id: record.id,
  name: record.name,
  permissions: record.permissions,
  expiresAt: record.expiresAt,
  sessionKey: z.string().meta({
    description: `Send with the cookie on every request as the ${WEB_LOGIN_KEY_HEADER} header (WebSockets: subprotocol ${WEB_LOGIN_KEY_PROTOCOL_PREFIX}<key>)`,
  }),
});
export type WebLoginResult = z.infer<typeof WebLoginResultSchema>;

/** `POST /pty/:id/share`, `POST /session/:id/share`: a share link's lifetime and name. */
export const ShareCreateSchema = z
  .object({
    expires: z.string().min(1).max(64).optional().meta({ description: 'A duration (15m, 1h, 2d, 7d) or a future ISO date-time; default 1h, at most 7 days' }),
    name: record.name.optional(),
  })
  .strict();
export type ShareCreate = z.infer<typeof ShareCreateSchema>;

/** The new share link, shown once: `url` carries the token in its fragment. */
export const ShareLinkSchema = z.object({
  id: record.id,
  name: record.name,
  target: z.object({ type: z.enum(SHARE_TARGET_TYPES), id: z.string() }),
  expiresAt: isoDateTime,
  url: z.string().meta({ description: 'http(s)://HOST:PORT/share#<token>: the only time the token is shown' }),
});
export type ShareLink = z.infer<typeof ShareLinkSchema>;

/** What a pairing code grants the device token made from it (pairing.ts). */
export const PairingGrantSchema = z.object({
  /** The device token's name; null: named after the browser that redeems the code. */
  name: record.name.nullable(),
  permissions: record.permissions,
  expiresAt: record.expiresAt,
  scopes: record.scopes,
});
export type PairingGrant = z.infer<typeof PairingGrantSchema>;

export const PAIRING_STATES = ['pending', 'paired', 'expired', 'cancelled', 'failed'] as const;
export type PairingState = (typeof PAIRING_STATES)[number];
/** A pairing code's public id (for its state and cancelling it), never the code. */
export const PAIRING_ID_PATTERN = /^pair_[0-9a-z]{16}$/;

/** `POST /auth/pair/code`: every field optional; the server fills in the creating token's own. */
export const PairingCodeRequestSchema = z
  .object({
    name: record.name.optional(),
    permissions: record.permissions.optional(),
    /** ISO 8601 or null (never); default: 90 days, or the creating token's expiry if sooner. */
    expiresAt: record.expiresAt.optional(),
    /** Existing directories on the server (absolute paths); default: the creating token's scopes. */
    scopes: z.array(z.string().refine(isScopePath, 'an absolute path')).min(1).max(MAX_SCOPES).refine(hasUniqueItems, 'a scope may appear once').optional(),
  })
  .strict();
export type PairingCodeRequest = z.infer<typeof PairingCodeRequestSchema>;

/** The state of a pairing code, as its creator sees it. */
export const PairingStatusSchema = z.object({
  id: z.string().regex(PAIRING_ID_PATTERN),
  state: z.enum(PAIRING_STATES),
  /** When the code stops working (5 minutes after it was made). */
  expiresAt: isoDateTime,
  grant: PairingGrantSchema,
  /** The device token made from it, once paired. */
  device: z.object({ id: record.id, name: record.name }).optional(),
});
export type PairingStatus = z.infer<typeof PairingStatusSchema>;

/** The answer to `POST /auth/pair/code`: the only time the code is shown. */
export const PairingCodeCreatedSchema = PairingStatusSchema.extend({
  code: z.string().meta({ description: 'The one-time code: open /pair#<code> on the device. Shown once; the server keeps only its hash.' }),
});
export type PairingCodeCreated = z.infer<typeof PairingCodeCreatedSchema>;

/** `POST /auth/pair`: the code from the link's fragment. */
export const PairRequestSchema = z.object({ code: z.string().min(1).max(128) }).strict();
export type PairRequest = z.infer<typeof PairRequestSchema>;
