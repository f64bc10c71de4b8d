// Assembles the Hono app: browser safety, then the auth guard, then the routes. The router matches
// the canonical path (getPath), the same one the guard's policy decides on.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { authGuard, type GuardOptions } from '../auth/middleware.js';
import { getCanonicalPath } from '../auth/router-path.js';
import { browserSafety, type BrowserSafetyOptions } from './browser-safety.js';
import type { RouteRegistrar, ServerContext } from './context.js';
import { errorJson, onError, validationHook } from './http-errors.js';
import { CORE_REGISTRARS } from './routes/index.js';

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Largest request body any route accepts. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface AppOptions {
  ctx: ServerContext;
  guard: GuardOptions;
  browser: BrowserSafetyOptions;
  /** Registered after the core routes (routes/index.ts lists both). */
  registrars?: RouteRegistrar[];
}

export function createApp(opts: AppOptions): OpenAPIHono {
  const app = new OpenAPIHono<Env>({ getPath: getCanonicalPath, defaultHook: validationHook });
  app.use('*', browserSafety(opts.browser));
  app.use('*', authGuard(opts.guard));
  // After the guard, so unauthenticated callers cannot make the server read large bodies. Only
  // for methods that carry one: the check materialises the request, which costs GETs dearly.
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => errorJson(c, 413, 'too_large', `request body is larger than ${MAX_BODY_BYTES} bytes`),
  });
  const withBodyLimit: MiddlewareHandler<Env> = (c, next) => (BODYLESS.has(c.req.method) ? next() : limit(c, next));
  app.use('*', withBodyLimit);

  for (const register of [...CORE_REGISTRARS, ...(opts.registrars ?? [])]) {
    register(app, opts.ctx);
  }
  app.notFound((c) => errorJson(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError(onError(opts.ctx.log));
  return app;
}
