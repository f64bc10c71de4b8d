import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { displayPath, resolveInside } from '../../fs/confine.js';
import { NotFoundError, TooLargeError, UsageError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { authErrors, errors, jsonContent } from './common.js';

export const FILE_CONTENT_MAX_BYTES = 1024 * 1024;
const LIST_MAX_ENTRIES = 5000;

const Entry = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number().nullable(),
});
const Listing = z.object({ path: z.string(), entries: z.array(Entry), truncated: z.boolean() }).openapi('FileListing');
const Content = z
  .object({ path: z.string(), size: z.number(), encoding: z.enum(['utf8', 'base64']), content: z.string() })
  .openapi('FileContent');

const PathQuery = z.object({
  path: z.string().max(4096).optional().openapi({ description: 'Relative to the project (or absolute inside it); default "."' }),
});
const RequiredPathQuery = z.object({ path: z.string().min(1).max(4096) });

const list = createRoute({
  method: 'get',
  path: '/file',
  summary: 'List a directory inside the project',
  request: { query: PathQuery },
  responses: { 200: jsonContent(Listing, 'Directory entries'), 400: errors[400], 404: errors[404], ...authErrors },
});

const content = createRoute({
  method: 'get',
  path: '/file/content',
  summary: `Read a file inside the project (at most ${FILE_CONTENT_MAX_BYTES} bytes)`,
  request: { query: RequiredPathQuery },
  responses: { 200: jsonContent(Content, 'File content'), 400: errors[400], 404: errors[404], 413: errors[413], ...authErrors },
});

function notFound(input: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`no such file or directory: ${input}`);
  throw err;
}

function typeOf(st: import('node:fs').Stats | import('node:fs').Dirent): 'file' | 'directory' | 'symlink' | 'other' {
  return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
}

/** Valid UTF-8 text without NUL bytes is returned as text; anything else as base64. */
function isText(buf: Buffer): boolean {
  if (buf.subarray(0, 8192).includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

export function registerFile(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(list, async (c) => {
    const input = c.req.valid('query').path ?? '.';
    const dir = await resolveInside(ctx.projectDir, input);
    const st = await fs.stat(dir).catch((e) => notFound(input, e));
    if (!st.isDirectory()) throw new UsageError(`"${input}" is not a directory; read files with GET /file/content?path=`);
    const dirents = await fs.readdir(dir, { withFileTypes: true });
    dirents.sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || (a.name < b.name ? -1 : 1));
    const shown = dirents.slice(0, LIST_MAX_ENTRIES);
    const entries = await Promise.all(
      shown.map(async (d) => {
        const abs = path.join(dir, d.name);
        const size = d.isFile() ? await fs.lstat(abs).then((s) => s.size, () => null) : null;
        return { name: d.name, path: displayPath(ctx.projectDir, abs), type: typeOf(d), size };
      }),
    );
    return c.json({ path: displayPath(ctx.projectDir, dir), entries, truncated: dirents.length > shown.length }, 200);
  });

  app.openapi(content, async (c) => {
    const input = c.req.valid('query').path;
    const file = await resolveInside(ctx.projectDir, input);
    // O_NOFOLLOW: the checked real path must not be swapped for a symlink before the open.
    const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch((e) => notFound(input, e));
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new UsageError(`"${input}" is a directory; list it with GET /file?path=`);
      if (!st.isFile()) throw new UsageError(`"${input}" is not a regular file`);
      if (st.size > FILE_CONTENT_MAX_BYTES) {
        throw new TooLargeError(`"${input}" is ${st.size} bytes; GET /file/content returns files up to ${FILE_CONTENT_MAX_BYTES} bytes`);
      }
      const buf = await handle.readFile();
      const text = isText(buf);
      return c.json(
        { path: displayPath(ctx.projectDir, file), size: buf.length, encoding: text ? ('utf8' as const) : ('base64' as const), content: buf.toString(text ? 'utf8' : 'base64') },
        200,
      );
    } finally {
      await handle.close();
    }
  });
}
