// GET /audit: the audit trail with the filters of `tether audit` (since, by = --token, kind, limit), the
// newest matching events oldest first, bounded in count and size. Needs read + execute (the policy
// table): the trail shows the commands that ran. The log's own health comes with it (`log`).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { parseAuditQuery } from '../../audit/query.js';
import { readAudit } from '../../audit/reader.js';
import type { ServerContext } from '../context.js';
import { authErrors, errors, jsonContent } from './common.js';

/** Largest answer, counted as log lines: a full page of long commands stays a few MiB. */
export const MAX_RESULT_BYTES = 4 * 1024 * 1024;

const text = (description: string, example: string) => z.string().optional().openapi({ description, example });

const Query = z.object({
  since: text('Events at or after: a duration back from now (30m, 1h, 7d) or an ISO 8601 date or time', '1h'),
  // Not `token`: the guard refuses any request with a `token` query parameter (a token in a URL).
  by: text('A token id or name: events by that token (`--token` of `tether audit`)', 'laptop'),
  kind: text('Comma-separated kinds (pty.start) or groups (pty = every pty.* kind)', 'pty,shell.exit'),
  limit: text('The newest this many matching events (1 to 10000, default 1000)', '100'),
});

const Event = z
  .object({ time: z.string(), kind: z.string(), tokenId: z.string().nullable(), tokenName: z.string().nullable(), address: z.string() })
  .catchall(z.unknown())
  .openapi('AuditEvent');

const Result = z
  .object({
    events: z.array(Event).openapi({ description: 'Oldest first' }),
    truncated: z.boolean().openapi({ description: 'More events matched than were returned (the oldest were left out)' }),
    skippedLines: z.number().int().openapi({ description: 'Lines that are not events (a torn line after a crash), among those read' }),
    log: z
      .object({
        ok: z.boolean(),
        error: z.string().nullable(),
        failingSince: z.string().nullable(),
        lostLines: z.number().int(),
      })
      .openapi({ description: "The audit log's own health: ok false while it cannot be written" }),
  })
  .openapi('AuditResult');

const route = createRoute({
  method: 'get',
  path: '/audit',
  summary: 'The audit trail (needs read + execute: it shows commands)',
  request: { query: Query },
  responses: { 200: jsonContent(Result, 'Events'), 400: errors[400], ...authErrors },
});

export function registerAudit(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(route, async (c) => {
    const { since, by, kind, limit } = c.req.valid('query');
    const query = parseAuditQuery({ since, token: by, kind, limit }, { since: 'since', token: 'by', kind: 'kind', limit: 'limit' });
    const result = await readAudit(ctx.audit.dir, query, { maxResultBytes: MAX_RESULT_BYTES });
    const { ok, error, failingSince, lostLines } = ctx.audit.status();
    return c.json({ events: result.events, truncated: result.truncated, skippedLines: result.skippedLines, log: { ok, error, failingSince, lostLines } }, 200);
  });
}
