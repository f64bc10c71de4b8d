import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { WhoamiSchema, type Whoami } from '../../auth/shapes.js';
import { authErrors, jsonContent } from './common.js';

const whoami = createRoute({
  method: 'get',
  path: '/auth/whoami',
  summary: "The calling token's id, name, permissions, expiry, (for a scoped token) scopes and (for a share link's token) its kind and target",
  responses: { 200: jsonContent(WhoamiSchema.openapi('Whoami'), 'The token'), ...authErrors },
});

export function registerAuth(app: OpenAPIHono): void {
  app.openapi(whoami, (c) => {
    const a = c.get('auth');
    const body: Whoami = {
      id: a.tokenId,
      name: a.name,
      permissions: a.permissions,
      expiresAt: a.expiresAt,
      authenticatedBy: a.via,
      ...(a.scopes !== null && { scopes: [...a.scopes] }),
      ...(a.share ? { kind: 'share' as const, target: a.share } : {}),
    };
    return c.json(body, 200);
  });
}
