import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { authErrors, jsonContent } from './common.js';
import { PERMISSIONS } from '../../auth/permissions.js';

const Whoami = z
  .object({
    id: z.string().nullable(),
    name: z.string(),
    permissions: z.array(z.enum(PERMISSIONS)),
    expiresAt: z.string().nullable(),
    authenticatedBy: z.string(),
  })
  .openapi('Whoami');

const whoami = createRoute({
  method: 'get',
  path: '/auth/whoami',
  summary: "The calling token's id, name, permissions and expiry",
  responses: { 200: jsonContent(Whoami, 'The token'), ...authErrors },
});

export function registerAuth(app: OpenAPIHono): void {
  app.openapi(whoami, (c) => {
    const a = c.get('auth');
    return c.json({ id: a.tokenId, name: a.name, permissions: a.permissions, expiresAt: a.expiresAt, authenticatedBy: a.via }, 200);
  });
}
