import type { Dirent } from 'node:fs';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { displayPath } from '../../fs/confine.js';
import { listDirectory, openFile, readAtMost } from '../../fs/io.js';
import { TetherError, TooLargeError, UsageError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { fileRoot } from '../place.js';
import { FileContentSchema, FileListingSchema } from '../../fs/shapes.js';
import { authErrors, doc, errors, jsonContent } from './common.js';

export const FILE_CONTENT_MAX_BYTES = 1024 * 1024;
const LIST_MAX_ENTRIES = 5000;

const Listing = doc(FileListingSchema).openapi('FileListing');
const Content = doc(FileContentSchema).openapi('FileContent');

const PathQuery = z.object({
  path: z.string().max(4096).optional().openapi({ description: 'Relative to the project (or absolute inside it); default "."' }),
});
const RequiredPathQuery = z.object({ path: z.string().min(1).max(4096) });

const list = createRoute({
  method: 'get',
  path: '/file',
  summary: 'List a directory inside the project',
  request: { query: PathQuery },
  responses: { 200: jsonContent(Listing, 'Directory entries'), 400: errors[400], 404: errors[404], 409: errors[409], ...authErrors },
});

const content = createRoute({
  method: 'get',
  path: '/file/content',
  summary: `Read a file inside the project (at most ${FILE_CONTENT_MAX_BYTES} bytes)`,
  request: { query: RequiredPathQuery },
  responses: { 200: jsonContent(Content, 'File content'), 400: errors[400], 404: errors[404], 409: errors[409], 413: errors[413], ...authErrors },
});

/** Adds where to go instead to the confinement's "wrong kind of file" errors. */
function hint<T>(p: Promise<T>, code: string, message: string): Promise<T> {
  return p.catch((err: unknown) => {
    throw err instanceof TetherError && err.code === code ? new UsageError(`${err.message}; ${message}`, code) : err;
  });
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

// Every handler takes its Root from fileRoot(c, ctx) (src/server/place.ts), never a Root of its
// own: that is where a scoped token's directories join the confinement.
export function registerFile(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(list, async (c) => {
    const root = fileRoot(c, ctx);
    const input = c.req.valid('query').path ?? '.';
    const order = (a: Dirent, b: Dirent) => Number(b.isDirectory()) - Number(a.isDirectory()) || (a.name < b.name ? -1 : 1);
    const dir = await hint(listDirectory(root, input, { max: LIST_MAX_ENTRIES, order }), 'not_directory', 'read files with GET /file/content?path=');
    const entries = dir.entries.map((e) => ({ name: e.name, path: displayPath(root.real, e.real), type: e.type, size: e.size }));
    return c.json({ path: displayPath(root.real, dir.real), entries, truncated: dir.truncated }, 200);
  });

  app.openapi(content, async (c) => {
    const root = fileRoot(c, ctx);
    const input = c.req.valid('query').path;
    const file = await hint(openFile(root, input), 'is_directory', 'list it with GET /file?path=');
    try {
      if (file.size > FILE_CONTENT_MAX_BYTES) {
        throw new TooLargeError(`"${input}" is ${file.size} bytes; GET /file/content returns files up to ${FILE_CONTENT_MAX_BYTES} bytes`);
      }
      const buf = await readAtMost(file.handle, file.size);
      const text = isText(buf);
      return c.json(
        {
          path: displayPath(root.real, file.real),
          size: buf.length,
          encoding: text ? ('utf8' as const) : ('base64' as const),
          content: buf.toString(text ? 'utf8' : 'base64'),
        },
        200,
      );
    } finally {
      await file.handle.close();
    }
  });
}
