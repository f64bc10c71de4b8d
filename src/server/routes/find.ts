import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { readWalkedFile, walk } from '../../fs/walk.js';
import type { ServerContext } from '../context.js';
import { fileRoot } from '../place.js';
import { FindFileResultSchema, FindTextResultSchema } from '../../fs/shapes.js';
import { authErrors, doc, errors, jsonContent } from './common.js';

const TIME_BUDGET_MS = 3000;
const MAX_ENTRIES = 200_000;
const MAX_SEARCH_FILE_BYTES = 1024 * 1024;
const MAX_LINE_CHARS = 500;

const limit = (def: number, max: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(def)
    .openapi({ description: `Most results to return (1-${max}, default ${def})` });

const FileQuery = z.object({ query: z.string().min(1).max(1024), limit: limit(50, 1000) });
const TextQuery = z.object({
  pattern: z.string().min(1).max(1024).openapi({ description: 'Literal text to find (not a regular expression)' }),
  caseSensitive: z.enum(['true', 'false']).default('false'),
  limit: limit(100, 1000),
});

const FileHits = doc(FindFileResultSchema).openapi('FindFileResult');
const TextHits = doc(FindTextResultSchema).openapi('FindTextResult');

const findFile = createRoute({
  method: 'get',
  path: '/find/file',
  summary: "Find files and directories whose path contains the query (case-insensitive); bounded in results and time; skips tether's own files",
  request: { query: FileQuery },
  responses: { 200: jsonContent(FileHits, 'Matches'), 400: errors[400], ...authErrors },
});

const findText = createRoute({
  method: 'get',
  path: '/find',
  summary: "Search file contents for literal text; bounded in results and time, skips binary and large files and tether's own files",
  request: { query: TextQuery },
  responses: { 200: jsonContent(TextHits, 'Matches'), 400: errors[400], ...authErrors },
});

export function registerFind(app: OpenAPIHono, ctx: ServerContext): void {
  // The Root from fileRoot (src/server/place.ts): a scoped token's walk sees only its scopes.
  app.openapi(findFile, async (c) => {
    const root = fileRoot(c, ctx);
    const q = c.req.valid('query');
    const needle = q.query.toLowerCase();
    const state = { truncated: false };
    const results: { path: string; type: 'file' | 'directory' }[] = [];
    for await (const e of walk(root, { deadline: Date.now() + TIME_BUDGET_MS, maxEntries: MAX_ENTRIES }, state)) {
      if (!e.rel.toLowerCase().includes(needle)) continue;
      if (results.length >= q.limit) {
        state.truncated = true;
        break;
      }
      results.push({ path: e.rel, type: e.type });
    }
    return c.json({ results, truncated: state.truncated }, 200);
  });

  app.openapi(findText, async (c) => {
    const root = fileRoot(c, ctx);
    const q = c.req.valid('query');
    const sensitive = q.caseSensitive === 'true';
    const needle = sensitive ? q.pattern : q.pattern.toLowerCase();
    const state = { truncated: false };
    const deadline = Date.now() + TIME_BUDGET_MS;
    const results: { path: string; line: number; column: number; text: string }[] = [];
    outer: for await (const e of walk(root, { deadline, maxEntries: MAX_ENTRIES }, state)) {
      if (e.type !== 'file') continue;
      const buf = await readWalkedFile(root, e, MAX_SEARCH_FILE_BYTES);
      if (!buf || buf.subarray(0, 8192).includes(0)) continue;
      const lines = buf.toString('utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const col = (sensitive ? line : line.toLowerCase()).indexOf(needle);
        if (col === -1) continue;
        if (results.length >= q.limit || Date.now() > deadline) {
          state.truncated = true;
          break outer;
        }
        results.push({ path: e.rel, line: i + 1, column: col + 1, text: line.slice(0, MAX_LINE_CHARS) });
      }
    }
    return c.json({ results, truncated: state.truncated }, 200);
  });
}
