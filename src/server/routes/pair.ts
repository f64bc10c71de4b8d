// Pairing a device (`tether pair`): a token asks for a one-time code (POST /auth/pair/code),
// watches it (GET) or cancels it (DELETE /auth/pair/code/:id); the device opens /pair#<code>, whose
// page exchanges the code (POST /auth/pair, public, rate limited) for a device token it never sees,
// and is logged in with it. The guard decides the routes' permissions; what a code may grant is
// decided by pairingGrantDecision (auth/policy.ts); the work is in auth/pairing-service.ts.
//
// The code never reaches a log: lines name the pairing id and token ids only.
import { createRoute, z } from '@hono/zod-openapi';
import { mayManagePairing, pairingGrantDecision } from '../../auth/policy.js';
import { PairingRefused } from '../../auth/pairing-service.js';
import {
  PAIRING_ID_PATTERN,
  PairRequestSchema,
  PairingCodeCreatedSchema,
  PairingCodeRequestSchema,
  PairingStatusSchema,
  WebLoginResultSchema,
  type WebLoginResult,
} from '../../auth/shapes.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { RouteRegistrar } from '../context.js';
import { errorJson } from '../http-errors.js';
import { authErrors, doc, errors, jsonContent } from './common.js';
import { auditActor } from '../audit.js';
import { loginCookie } from './web-login.js';

const IdParams = z.object({
  id: z
    .string()
    .regex(PAIRING_ID_PATTERN)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'pair_0123456789abcdef' }),
});

const Created = doc(PairingCodeCreatedSchema).openapi('PairingCodeCreated');
const Status = doc(PairingStatusSchema).openapi('PairingStatus');

const createCode = createRoute({
  method: 'post',
  path: '/auth/pair/code',
  summary: 'Create a one-time pairing code (valid 5 minutes) for a new device token; it grants at most what the calling token holds',
  request: { body: { content: { 'application/json': { schema: doc(PairingCodeRequestSchema).openapi('PairingCodeRequest') } }, required: false } },
  responses: { 201: jsonContent(Created, 'The code (shown only here) and its state'), 400: errors[400], 409: errors[409], ...authErrors },
});

const getCode = createRoute({
  method: 'get',
  path: '/auth/pair/code/{id}',
  summary: "The state of one of the calling token's pairing codes (pending, paired, expired, cancelled, failed)",
  request: { params: IdParams },
  responses: { 200: jsonContent(Status, 'The state'), 404: errors[404], ...authErrors },
});

const cancelCode = createRoute({
  method: 'delete',
  path: '/auth/pair/code/{id}',
  summary: "Cancel one of the calling token's pending pairing codes",
  request: { params: IdParams },
  responses: { 204: { description: 'Cancelled' }, 404: errors[404], 409: errors[409], ...authErrors },
});

const redeem = createRoute({
  method: 'post',
  path: '/auth/pair',
  summary: 'Exchange a pairing code for a new device token and a web login with it (no token needed; the token itself is never shown; rate limited)',
  request: { body: { content: { 'application/json': { schema: doc(PairRequestSchema).openapi('PairRequest') } }, required: true } },
  responses: {
    200: jsonContent(doc(WebLoginResultSchema).openapi('PairResult'), 'Paired and logged in; Set-Cookie carries the login'),
    400: errors[400],
    410: errors[400],
    429: errors[400],
  },
});

const NO_AUTH_MESSAGE = 'this server runs without authentication (--no-auth): there is nothing to pair';
const notFound = (id: string) => `no pairing code ${id} of this token (codes are forgotten 10 minutes after they end, and at a server restart)`;

export const registerPair: RouteRegistrar = (app, ctx) => {
  const { limiter, clientAddress } = ctx;

  app.openapi(createCode, async (c) => {
    const auth = c.get('auth');
    const creator = auth.tokenId === null ? undefined : ctx.tokens?.current().get(auth.tokenId);
    if (!ctx.pairing || !creator) return errorJson(c, 400, 'auth_disabled', NO_AUTH_MESSAGE);
    const grant = await ctx.pairing.resolveGrant(creator, c.req.valid('json') ?? {}, ctx.projectDir);
    const decision = pairingGrantDecision(creator, grant);
    if (!decision.ok) return errorJson(c, 403, decision.code, decision.message);
    const created = ctx.pairing.codes.create(creator.id, grant);
    ctx.log.log('info', 'pairing.code_created', { tokenId: creator.id, pairingId: created.id, permissions: grant.permissions, expiresAt: created.expiresAt });
    ctx.audit.record('pair.create', auditActor(c, ctx.clientAddress), {
      pairingId: created.id,
      device: grant.name ?? null,
      permissions: [...grant.permissions],
      expiresAt: grant.expiresAt,
      ...(grant.scopes ? { scopes: [...grant.scopes] } : {}),
      codeExpiresAt: created.expiresAt,
    });
    return c.json(created, 201);
  });

  app.openapi(getCode, (c) => {
    const { id } = c.req.valid('param');
    const found = ctx.pairing?.codes.get(id);
    if (!found || !mayManagePairing(c.get('auth').tokenId, found.creatorTokenId)) throw new NotFoundError(notFound(id));
    const { creatorTokenId: _creator, ...status } = found;
    return c.json(status, 200);
  });

  app.openapi(cancelCode, (c) => {
    const { id } = c.req.valid('param');
    const found = ctx.pairing?.codes.get(id);
    if (!found || !mayManagePairing(c.get('auth').tokenId, found.creatorTokenId)) throw new NotFoundError(notFound(id));
    if (!ctx.pairing!.codes.cancel(id)) throw new ConflictError(`pairing code ${id} can no longer be cancelled: it is ${found.state}`, 'pairing_finished');
    ctx.log.log('info', 'pairing.code_cancelled', { tokenId: found.creatorTokenId, pairingId: id });
    return c.body(null, 204);
  });

  app.openapi(redeem, async (c) => {
    if (!ctx.pairing) return errorJson(c, 400, 'auth_disabled', NO_AUTH_MESSAGE);
    const address = clientAddress(c);
    // A network over the failure limit gets no more tries, not even a right one: otherwise the
    // limiter would slow a guesser's answers, not the guesses.
    if (limiter.isThrottled(address)) return tooMany(c, limiter.fail(address));
    let done;
    try {
      done = await ctx.pairing.redeem(c.req.valid('json').code, c.req.header('user-agent'));
    } catch (err) {
      if (!(err instanceof PairingRefused)) throw err;
      const retryAfter = limiter.fail(address);
      ctx.log.log('warn', 'auth.failure', { reason: err.reason, via: 'pairing', address, method: 'POST', path: '/auth/pair' });
      if (retryAfter) return tooMany(c, retryAfter);
      return errorJson(c, 410, err.code, err.message);
    }
    const { record, login } = done;
    c.header('Set-Cookie', loginCookie(c, login.id, login.maxAgeS));
    ctx.log.log('info', 'pairing.used', { pairingId: done.pairingId, creatorTokenId: done.creatorTokenId, tokenId: record.id, name: record.name, address });
    ctx.log.log('info', 'web.login', { tokenId: record.id });
    const device = { tokenId: record.id, tokenName: record.name, address };
    ctx.audit.record('pair.use', device, {
      pairingId: done.pairingId,
      createdBy: done.creatorTokenId,
      permissions: [...record.permissions],
      expiresAt: record.expiresAt,
      ...(record.scopes ? { scopes: [...record.scopes] } : {}),
    });
    ctx.audit.record('web.login', device, {});
    const body: WebLoginResult = { id: record.id, name: record.name, permissions: record.permissions, expiresAt: record.expiresAt, sessionKey: login.key };
    return c.json(body, 200);
  });
};

function tooMany(c: Parameters<typeof errorJson>[0], retryAfter: number) {
  c.header('Retry-After', String(retryAfter));
  return errorJson(c, 429, 'too_many_failures', `too many failed pairing attempts from this address; retry after ${retryAfter} s`);
}
