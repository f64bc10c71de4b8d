import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { jsonContent } from './common.js';

const route = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Liveness (no token needed; holds no data)',
  responses: { 200: jsonContent(z.object({ ok: z.literal(true) }), 'The server is up') },
});

export function registerHealth(app: OpenAPIHono): void {
  app.openapi(route, (c) => c.json({ ok: true as const }, 200));
}
