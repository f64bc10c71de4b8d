import type { Dirent } from 'node:fs';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { displayPath } from '../../fs/confine.js';
import { etagOf, parseTagList, PreconditionFailedError, type Precondition } from '../../fs/etag.js';
import { listDirectory, openFile, readAtMost } from '../../fs/io.js';
import { deleteFileConfined, FILE_MAX_BYTES, writeFileConfined } from '../../fs/write.js';
import { NotFoundError, TetherError, TooLargeError, UsageError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { auditActor } from '../audit.js';
import { fileRoot } from '../place.js';
import { FileContentSchema, FileListingSchema, FileWriteSchema, FileWrittenSchema, type FileWrite } from '../../fs/shapes.js';
import { authErrors, doc, ErrorSchema, errors, jsonContent } from './common.js';

export const FILE_CONTENT_MAX_BYTES = FILE_MAX_BYTES;
const LIST_MAX_ENTRIES = 5000;

const Listing = doc(FileListingSchema).openapi('FileListing');
const Content = doc(FileContentSchema).openapi('FileContent');
const Write = doc(FileWriteSchema).openapi('FileWrite');
const Written = doc(FileWrittenSchema).openapi('FileWritten');
const PreconditionFailed = z
  .object({ error: z.object({ code: z.string(), message: z.string(), currentEtag: z.string().nullable() }) })
  .openapi('PreconditionFailed');
const preconditionFailed = {
  description: 'If-Match / If-None-Match did not hold: the file changed (etag_mismatch) or exists (file_exists); currentEtag is its tag now (null: no file)',
  content: { 'application/json': { schema: PreconditionFailed } },
};
const Preconditions = z.object({
  'if-match': z.string().optional().openapi({ description: 'Write/delete only if the file is this version (an ETag from GET /file/content), or exists (*)' }),
  'if-none-match': z.string().optional().openapi({ description: '`*`: create only, never replace' }),
});

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

const put = createRoute({
  method: 'put',
  path: '/file/content',
  summary: `Create or replace a file inside the project, atomically (content at most ${FILE_MAX_BYTES} bytes)`,
  request: { query: RequiredPathQuery, headers: Preconditions, body: { content: { 'application/json': { schema: Write } }, required: true } },
  responses: {
    200: jsonContent(Written, 'Replaced'),
    201: jsonContent(Written, 'Created'),
    400: errors[400],
    404: errors[404],
    409: errors[409],
    412: preconditionFailed,
    413: errors[413],
    507: { description: 'No space left, or a file size limit (the file was not changed)', content: { 'application/json': { schema: ErrorSchema } } },
    ...authErrors,
  },
});

const del = createRoute({
  method: 'delete',
  path: '/file',
  summary: 'Delete one regular file inside the project (not a directory, not a symlink)',
  request: { query: RequiredPathQuery, headers: Preconditions },
  responses: { 204: { description: 'Deleted' }, 400: errors[400], 404: errors[404], 409: errors[409], 412: preconditionFailed, ...authErrors },
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes a write body stands for, checked: valid base64 or well-formed text, at most the cap. */
function decodeContent(body: FileWrite): Buffer {
  let buf: Buffer;
  if (body.encoding === 'base64') {
    if (!BASE64.test(body.content)) {
      throw new UsageError('content is not valid base64 (the standard alphabet A-Z a-z 0-9 + /, padded with =, no spaces or line breaks)', 'bad_base64');
    }
    buf = Buffer.from(body.content, 'base64');
  } else {
    // A lone surrogate would be saved as U+FFFD: a silent change of what was sent.
    if (LONE_SURROGATE.test(body.content)) throw new UsageError('content is not well-formed Unicode text (a lone surrogate); send bytes as base64', 'bad_text');
    buf = Buffer.from(body.content, 'utf8');
  }
  if (buf.length > FILE_MAX_BYTES) {
    throw new TooLargeError(`content is ${buf.length} bytes; PUT /file/content writes at most ${FILE_MAX_BYTES} bytes (1 MiB)`);
  }
  return buf;
}

/** If-Match / If-None-Match of a request; a malformed one is a 400, never ignored. */
function preconditionOf(c: Context): Precondition {
  const ifMatch = parseTagList(c.req.header('if-match'), 'If-Match');
  const ifNoneMatch = parseTagList(c.req.header('if-none-match'), 'If-None-Match');
  return { ...(ifMatch !== undefined ? { ifMatch } : {}), ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}) };
}

/** The domain call, or the precondition that failed (any other error propagates). */
async function orPrecondition<T>(p: Promise<T>): Promise<{ ok: T } | { failed: PreconditionFailedError }> {
  try {
    return { ok: await p };
  } catch (err) {
    if (err instanceof PreconditionFailedError) return { failed: err };
    throw err;
  }
}

/** A 412's body and headers: the current tag, so a client can reload or overwrite knowingly. */
const failedBody = (err: PreconditionFailedError) => ({ error: { code: err.code, message: err.message, currentEtag: err.currentEtag } });
const failedHeaders = (err: PreconditionFailedError): Record<string, string> => (err.currentEtag ? { etag: err.currentEtag } : {});

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
        // Strong, from the bytes sent: what a PUT's If-Match names to say "the version I read".
        { etag: etagOf(buf) },
      );
    } finally {
      await file.handle.close();
    }
  });

  app.openapi(put, async (c) => {
    const root = fileRoot(c, ctx);
    const input = c.req.valid('query').path;
    const body = c.req.valid('json');
    const data = decodeContent(body);
    const precondition = preconditionOf(c);
    const createParents = body.createParents ?? false;
    const writing = writeFileConfined(root, input, data, { createParents, precondition }).catch((err: unknown) => {
      // Without createParents, a missing file is fine (it is created): what is missing is its directory.
      if (err instanceof NotFoundError && !createParents) {
        throw new NotFoundError(`${err.message}: its directory does not exist; send "createParents": true to create it`);
      }
      throw err;
    });
    const done = await orPrecondition(writing);
    if ('failed' in done) return c.json(failedBody(done.failed), 412, failedHeaders(done.failed));
    const r = done.ok;
    const written = { path: displayPath(root.real, r.real), size: r.size, etag: r.etag, created: r.created };
    // The place: a scoped token's event stream shows the change only if the file is in its scope.
    ctx.events.publish('file.written', { ...written, by: c.get('auth').tokenId }, r.real);
    ctx.audit.record('file.write', auditActor(c, ctx.clientAddress), { path: written.path, bytes: written.size, created: written.created });
    if (r.created) return c.json(written, 201, { etag: r.etag });
    return c.json(written, 200, { etag: r.etag });
  });

  app.openapi(del, async (c) => {
    const root = fileRoot(c, ctx);
    const input = c.req.valid('query').path;
    const precondition = preconditionOf(c);
    const done = await orPrecondition(deleteFileConfined(root, input, { precondition }));
    if ('failed' in done) return c.json(failedBody(done.failed), 412, failedHeaders(done.failed));
    ctx.events.publish('file.deleted', { path: displayPath(root.real, done.ok.real), by: c.get('auth').tokenId }, done.ok.real);
    ctx.audit.record('file.delete', auditActor(c, ctx.clientAddress), { path: displayPath(root.real, done.ok.real) });
    return c.body(null, 204);
  });
}
