// `GET /doc`: the OpenAPI document of every route registered on this app (built on each request,
// so routes registered after this one are in it too).
import type { RouteRegistrar } from '../context.js';

export const registerDoc: RouteRegistrar = (app, ctx) => {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc('/doc', {
    openapi: '3.0.0',
    info: {
      title: 'tether',
      version: ctx.version,
      description:
        'Every route needs a token (Authorization: Bearer tether_...) except GET /health, the web UI files and POST /auth/session. ' +
        'GET/HEAD/OPTIONS need read; POST/PUT/PATCH/DELETE need write; /pty, /session, /message and WebSocket upgrades also need execute.',
    },
    security: [{ bearer: [] }],
  });
};
