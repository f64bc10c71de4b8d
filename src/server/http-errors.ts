// Every error leaves the server as `{ "error": { "code", "message" } }` with a fitting status.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TetherError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

export function errorJson(c: Context, status: number, code: string, message: string) {
  return c.json({ error: { code, message } }, status as 400);
}

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof TetherError) {
      // 503s (e.g. no model provider configured) are the caller's situation, not a server fault.
      if (err.status >= 500 && err.status !== 503)
        log.log('error', 'request.error', { method: c.req.method, path: c.req.path, code: err.code, error: err.message });
      return errorJson(c, err.status, err.code, err.message);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const message = err.message || (status === 400 ? 'bad request' : 'request failed');
      return errorJson(
        c,
        status,
        status === 400 ? 'bad_request' : 'http_error',
        status === 400 && /JSON/i.test(message) ? `request body is not valid JSON: ${message}` : message,
      );
    }
    log.log('error', 'request.crash', { method: c.req.method, path: c.req.path, error: errorMessage(err), stack: err.stack });
    return errorJson(c, 500, 'internal_error', 'internal server error (details are in the server log)');
  };
}

/** OpenAPIHono validation hook: a 400 that names every bad field. */
export function validationHook(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] }; target?: string }, c: Context) {
  if (result.success) return;
  const issues = result.error?.issues ?? [];
  const where = result.target === 'json' ? 'body' : (result.target ?? 'request');
  const message = issues.map((i) => `${where}${i.path.length ? '.' + i.path.map(String).join('.') : ''}: ${i.message}`).join('; ');
  return errorJson(c, 400, 'bad_request', message || 'invalid request');
}
