// `POST /pty/:id/share` and `POST /session/:id/share` (registered by pty.ts and session.ts, which
// know whether the id exists): a share link for one terminal or session. The guard has already
// required read + write + execute (ROUTE_RULES); a share token never gets here (SHARE_RULES). The
// token is written through token-admin under the token file's lock, and the link that carries it
// is answered once: it is never logged and never stored.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ConflictError } from '../../errors.js';
import type { ShareTarget } from '../../auth/policy.js';
import { createShareToken, shareLink } from '../../auth/share.js';
import { ShareCreateSchema, ShareLinkSchema, type ShareCreate, type ShareLink } from '../../auth/shapes.js';
import { auditActor } from '../audit.js';
import type { ServerContext } from '../context.js';
import { authErrors, doc, errors, jsonContent } from './common.js';

const CreateBody = doc(ShareCreateSchema).openapi('ShareCreate');
const LinkDoc = doc(ShareLinkSchema).openapi('ShareLink');

/** The route for one target type; `params` is that resource's own id parameter. */
export function shareRoute<T extends ShareTarget['type'], P extends z.ZodObject>(type: T, params: P) {
  const noun = type === 'pty' ? 'terminal' : 'session';
  return createRoute({
    method: 'post',
    path: `/${type}/{id}/share`,
    summary: `A read-only share link to this ${noun}: whoever holds it can watch it (and nothing else) until it expires`,
    description:
      'Needs read + write + execute. `expires`: a duration (15m, 1h, 2d, 7d) or a future ISO date-time, default 1h, at most 7 days. ' +
      'The answer carries the link http(s)://HOST:PORT/share#<token> once; the token is listed by `tether auth token list` ' +
      'with its target and revoked with `tether auth token delete`.',
    request: { params, body: { content: { 'application/json': { schema: CreateBody } }, required: false } },
    responses: { 201: jsonContent(LinkDoc, 'The link, shown once'), 400: errors[400], 404: errors[404], 409: errors[409], ...authErrors },
  });
}

/** Creates the share token and returns the link to answer. The caller has checked that the target exists. */
export async function createShare(c: Context, ctx: ServerContext, target: ShareTarget, body: ShareCreate | undefined): Promise<ShareLink> {
  if (!ctx.tokens) throw new ConflictError('share links need authentication, and this server runs with --no-auth', 'auth_disabled');
  const { token, record } = await createShareToken(
    {
      target,
      ...(body?.expires ? { expires: body.expires } : {}),
      ...(body?.name ? { name: body.name } : {}),
      creatorExpiresAt: c.get('auth').expiresAt,
    },
    ctx.tokens.file,
  );
  ctx.log.log('info', 'share.created', { tokenId: record.id, target, by: c.get('auth').tokenId, expiresAt: record.expiresAt });
  ctx.audit.record('share.create', auditActor(c, ctx.clientAddress), {
    shareTokenId: record.id,
    path: `/${target.type}/${target.id}`,
    expiresAt: record.expiresAt,
  });
  return { id: record.id, name: record.name, target, expiresAt: record.expiresAt!, url: shareLink(requestOrigin(c), token) };
}

/**
 * The origin the caller reached us at: the scheme of the connection and the Host header (which
 * browser safety has checked against the allowlist), not the request line, which may be an
 * absolute URL naming any host.
 */
function requestOrigin(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const tls = incoming ? Boolean((incoming.socket as TLSSocket).encrypted) : new URL(c.req.url).protocol === 'https:';
  return `${tls ? 'https' : 'http'}://${c.req.header('host') ?? new URL(c.req.url).host}`;
}
