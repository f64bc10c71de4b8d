// The consent routes behind the web UI's consent page (src/web/modules/consent.js): read a pending
// authorization request, then approve it (a single-use code, sent to the client's redirect URI by
// the browser) or deny it. Authenticated like every API route; the guard requires read (and write
// to decide), and what the approver may grant is src/auth/policy.ts `approvalRefusal`.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'hono';
import { approvalRefusal } from '../../auth/policy.js';
import { isPermission, normalizePermissions, type Permission } from '../../auth/permissions.js';
import { redirectWith } from '../../auth/oauth/authorize.js';
import { redirectHost } from '../../auth/oauth/registration.js';
import { inScope } from '../../auth/scope.js';
import { MAX_SCOPE_LENGTH } from '../../auth/token-record.js';
import { auditActor } from '../audit.js';
import type { RouteRegistrar } from '../context.js';
import { errorJson } from '../http-errors.js';

const REQUEST_PATH = '/oauth/request/:id';
const NOT_FOUND = 'no such authorization request: it expired (10 minutes), was decided already, or the server restarted; start again from the client';

interface Decision {
  approve: boolean;
  permissions?: Permission[];
  /** A directory (relative to the project, or absolute inside it) the grant is confined to; absent or null: none. */
  scope?: string | null;
}

function parseDecision(body: unknown): Decision | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'send a JSON object {approve, permissions?, scope?}';
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['approve', 'permissions', 'scope'].includes(k)) return `unknown field "${k}"`;
  if (typeof b.approve !== 'boolean') return '"approve" is true or false';
  if (b.permissions !== undefined && !(Array.isArray(b.permissions) && b.permissions.length > 0 && b.permissions.every(isPermission))) {
    return '"permissions" is a non-empty list of read, write, execute';
  }
  if (b.scope !== undefined && b.scope !== null && !(typeof b.scope === 'string' && b.scope.length <= MAX_SCOPE_LENGTH && !b.scope.includes('\0'))) {
    return '"scope" is a directory path, or null';
  }
  return b as unknown as Decision;
}

/** The real path of a scope directory inside the project, or why not. */
async function scopeDir(projectDir: string, given: string): Promise<{ real: string } | { problem: string }> {
  let real: string;
  try {
    real = await fs.realpath(path.resolve(projectDir, given));
    if (!(await fs.stat(real)).isDirectory()) return { problem: `${given} is not a directory` };
  } catch {
    return { problem: `${given} does not exist in the project` };
  }
  return inScope([projectDir], real) ? { real } : { problem: `${given} is outside the project` };
}

export const registerOAuthConsent: RouteRegistrar = (app, ctx) => {
  const origin = (c: Context) => new URL(c.req.url).origin;

  app.get(REQUEST_PATH, (c) => {
    const id = c.req.param('id');
    const req = ctx.oauth?.pending.get(id);
    if (!req) return errorJson(c, 404, 'not_found', NOT_FOUND);
    const auth = c.get('auth');
    return c.json({
      id,
      client: { id: req.clientId, name: req.clientName },
      redirectHost: redirectHost(req.redirectUri),
      permissions: req.permissions,
      resource: req.resource,
      expiresAt: new Date(ctx.oauth!.pending.expiresAt(id)!).toISOString(),
      approver: { name: auth.name, permissions: auth.permissions, scopes: auth.scopes },
      project: ctx.projectDir,
    });
  });

  app.post(REQUEST_PATH, async (c) => {
    const id = c.req.param('id');
    const oauth = ctx.oauth;
    const req = oauth?.pending.get(id);
    if (!oauth || !req) return errorJson(c, 404, 'not_found', NOT_FOUND);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return errorJson(c, 400, 'bad_request', 'the body is not JSON');
    }
    const d = parseDecision(body);
    if (typeof d === 'string') return errorJson(c, 400, 'bad_request', d);
    const iss = origin(c);
    const auth = c.get('auth');
    if (!d.approve) {
      oauth.pending.delete(id);
      ctx.log.log('info', 'oauth.denied', { clientId: req.clientId, by: auth.tokenId });
      return c.json({
        redirect: redirectWith(req.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: req.state, iss }),
      });
    }
    const permissions = normalizePermissions(d.permissions ?? req.permissions);
    const beyond = permissions.filter((p) => !req.permissions.includes(p));
    if (beyond.length > 0) return errorJson(c, 400, 'bad_request', `the client did not ask for ${beyond.join(' and ')}: permissions can only be narrowed`);
    let scopes: string[] | null = null;
    if (typeof d.scope === 'string' && d.scope.trim() !== '') {
      const r = await scopeDir(ctx.projectDir, d.scope.trim());
      if ('problem' in r) return errorJson(c, 400, 'bad_scope', `scope: ${r.problem}; choose a directory inside the project`);
      scopes = [r.real];
    }
    const refused = approvalRefusal({ permissions: auth.permissions, scopes: auth.scopes }, { permissions, scopes });
    if (refused) return errorJson(c, 403, 'insufficient_permissions', `cannot approve: ${refused}`);
    // Decided: the request is gone whatever happens next, and the code is good once, for a minute.
    oauth.pending.delete(id);
    const code = oauth.newCode({
      clientId: req.clientId,
      clientName: req.clientName,
      redirectUri: req.redirectUri,
      codeChallenge: req.codeChallenge,
      resource: req.resource,
      permissions,
      scopes,
    });
    ctx.log.log('info', 'oauth.approved', { clientId: req.clientId, by: auth.tokenId, permissions, scoped: scopes !== null });
    ctx.audit.record('oauth.approve', auditActor(c, ctx.clientAddress), {
      clientId: req.clientId,
      client: req.clientName,
      redirectHost: redirectHost(req.redirectUri),
      permissions: [...permissions],
      ...(scopes ? { scopes: [...scopes] } : {}),
    });
    return c.json({ redirect: redirectWith(req.redirectUri, { code, state: req.state, iss }) });
  });
};
