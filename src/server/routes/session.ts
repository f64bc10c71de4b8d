// Sessions and messages over HTTP: CRUD on sessions, the agent prompt, the shell runner and abort.
// Every path here starts with /session, so the guard requires execute (plus read for GET, write
// for the rest) before any handler runs; handlers only read the caller's token id. Each handler
// parses, makes one call into the session service, and responds; the shapes are the domain's
// (src/session/types.ts), named here for the OpenAPI document.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { UsageError } from '../../errors.js';
import { EventBus } from '../../events.js';
import type { StartedRun } from '../../session/runs.js';
import { SessionService, type RunAudit, type SessionServiceOptions } from '../../session/service.js';
import type { AuditDetails } from '../../audit/kinds.js';
import { auditActor } from '../audit.js';
import { SessionStore, defaultDbFile } from '../../session/store.js';
import {
  AbortResultSchema,
  MessageCreateSchema,
  MessageListSchema,
  MessageSchema,
  PartSchema,
  SessionCreateSchema,
  SessionDeletedSchema,
  SessionIdSchema,
  SessionInfoSchema,
  SessionListSchema,
  SessionPatchSchema,
  ShellCommandSchema,
  type Session,
  type SessionInfo,
} from '../../session/types.js';
import type { ServerContext } from '../context.js';
import type { RouteRegistrar } from '../context.js';
import { placeOf, startDirectory } from '../place.js';
import { authErrors, doc, errors, jsonContent } from './common.js';
import { compactEvent, streamRun, wantsEventStream } from './session-events.js';
import { createShare, shareRoute } from './share.js';

export interface SessionRoutesOptions {
  /** Default `$XDG_DATA_HOME/tether/tether.db`, resolved when the routes are registered. */
  dbFile?: string;
  /** Shell runner settings (output cap, kill grace, environment); see SessionShellOptions. */
  shell?: SessionServiceOptions['shell'];
  /** Environment the provider settings are read from (TETHER_MODEL_*), per request; default process.env. */
  env?: () => NodeJS.ProcessEnv;
  /** Retries of a failed model request; default the AI SDK's (2, with backoff). */
  modelRetries?: number;
  /** On shutdown, how long to wait for aborted runs to record their end before the database closes. */
  shutdownGraceMs?: number;
  /** How often streamed assistant text is saved while it streams (default 1000 ms). */
  textSnapshotMs?: number;
}

// --- the domain's shapes, named in the OpenAPI document ---

const SessionDoc = doc(SessionInfoSchema).openapi('Session');
const PartDoc = doc(PartSchema).openapi('Part');
// Extended only so that the nested shapes refer to their named components.
const MessageDoc = MessageSchema.extend({ parts: z.array(PartDoc) }).openapi('Message');
const SessionListDoc = SessionListSchema.extend({ sessions: z.array(SessionDoc) });
const MessageListDoc = MessageListSchema.extend({ messages: z.array(MessageDoc) });
const CreateBody = doc(SessionCreateSchema).openapi('SessionCreate');
const PatchBody = doc(SessionPatchSchema).openapi('SessionPatch');
const MessageBody = doc(MessageCreateSchema).openapi('MessageCreate');
const ShellBody = doc(ShellCommandSchema).openapi('ShellCommand');

const IdParam = z.object({
  id: doc(SessionIdSchema).openapi({ param: { name: 'id', in: 'path' }, example: 'ses_3q2ZK7m9TgWv0xYbL1cR8A' }),
});

const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const streamedOrJson = (description: string) => ({
  description:
    `${description}. With \`Accept: text/event-stream\` the response is a stream of events instead: ` +
    'message.created, message.part, message.part.delta ({partId, offset, text}), message.part.updated, message.completed, ' +
    'then `done` ({message}: the final message) or `error` ({error: {code, message}}); each data line is {"type", "properties"}. ' +
    'If the client disconnects the run continues (stop it with POST /session/{id}/abort); a revoked token aborts it.',
  content: {
    'application/json': { schema: MessageDoc },
    'text/event-stream': { schema: z.string() },
  },
});

// --- routes ---

const tags = ['session'];

const listSessions = createRoute({
  method: 'get',
  path: '/session',
  tags,
  summary: 'List sessions, most recently active first',
  responses: { 200: jsonContent(SessionListDoc, 'Sessions'), ...authErrors },
});

const createSession = createRoute({
  method: 'post',
  path: '/session',
  tags,
  summary: 'Create a session in a directory inside the project',
  request: { body: { content: { 'application/json': { schema: CreateBody } }, required: false } },
  responses: { 201: jsonContent(SessionDoc, 'The new session'), 400: errors[400], ...authErrors },
});

const getSession = createRoute({
  method: 'get',
  path: '/session/{id}',
  tags,
  summary: 'One session',
  request: { params: IdParam },
  responses: { 200: jsonContent(SessionDoc, 'The session'), 404: errors[404], ...authErrors },
});

const patchSession = createRoute({
  method: 'patch',
  path: '/session/{id}',
  tags,
  summary: 'Rename a session',
  request: { params: IdParam, ...jsonBody(PatchBody) },
  responses: { 200: jsonContent(SessionDoc, 'The updated session'), 400: errors[400], 404: errors[404], ...authErrors },
});

const deleteSession = createRoute({
  method: 'delete',
  path: '/session/{id}',
  tags,
  summary: 'Delete a session with all its messages (a running prompt or command is aborted first)',
  request: { params: IdParam },
  responses: {
    200: jsonContent(SessionDeletedSchema, 'Deleted'),
    404: errors[404],
    ...authErrors,
  },
});

const listMessages = createRoute({
  method: 'get',
  path: '/session/{id}/message',
  tags,
  summary: "The session's messages, oldest first, each with its parts",
  request: { params: IdParam },
  responses: { 200: jsonContent(MessageListDoc, 'Messages'), 404: errors[404], ...authErrors },
});

const postMessage = createRoute({
  method: 'post',
  path: '/session/{id}/message',
  tags,
  summary:
    'Prompt the agent: records the prompt (role user) and runs the agent in the session directory, recording its reply ' +
    '(role assistant: text, tool_call, tool_result, error parts). One request per session at a time (409 session_busy). ' +
    '503 no_provider when no model is configured.',
  request: { params: IdParam, ...jsonBody(MessageBody) },
  responses: {
    200: streamedOrJson('The finished assistant message (status completed, error or aborted)'),
    400: errors[400],
    404: errors[404],
    409: errors[409],
    503: errors[503],
    ...authErrors,
  },
});

const postShell = createRoute({
  method: 'post',
  path: '/session/{id}/shell',
  tags,
  summary:
    'Run a shell command in the session directory (bash -c, stdin closed), recorded as a message (role shell) with one ' +
    'shell part: stdout, stderr (each capped, with a marker when cut), exit code. A non-zero exit is status completed; ' +
    'a timeout is error; an abort is aborted. Needs no model. One request per session at a time (409 session_busy).',
  request: { params: IdParam, ...jsonBody(ShellBody) },
  responses: {
    200: streamedOrJson('The finished shell message'),
    400: errors[400],
    404: errors[404],
    409: errors[409],
    ...authErrors,
  },
});

const abortRun = createRoute({
  method: 'post',
  path: '/session/{id}/abort',
  tags,
  summary:
    'Abort the running prompt or shell command (the agent loop and any command it runs stop; the message ends aborted). ' +
    'Answers once the run has wound down, so the session is free again.',
  request: { params: IdParam },
  responses: {
    200: jsonContent(AbortResultSchema, 'Done'),
    404: errors[404],
    ...authErrors,
  },
});

// --- wiring ---

/** The session routes with their own store and service; `sessionRoutes()` is what `serve` uses. */
export function sessionRoutes(options: SessionRoutesOptions = {}): RouteRegistrar {
  return (app, ctx) => registerSessionRoutes(app, ctx, options);
}

export const registerSession: RouteRegistrar = (app, ctx) => registerSessionRoutes(app, ctx, {});

export function registerSessionRoutes(app: OpenAPIHono, ctx: ServerContext, options: SessionRoutesOptions): void {
  const store = new SessionStore(options.dbFile ?? defaultDbFile());
  if (store.recoveredMessages > 0) {
    ctx.log.log('warn', 'session.recovered', { file: store.file, messages: store.recoveredMessages, note: 'marked as interrupted by a restart' });
  }
  // The service publishes on its own bus: the caller's stream gets events whole, `GET /event` compact.
  const bus = new EventBus();
  bus.subscribe((e) => ctx.events.publish(e.type, compactEvent(e.properties), e.place));
  const service = new SessionService({
    store,
    events: bus,
    projectDir: ctx.projectDir,
    ...(options.shell ? { shell: options.shell } : {}),
    agent: {
      config: () => ctx.settings.get(),
      // The same environment GET /config reads, so what it shows is what the agent uses.
      env: options.env ?? ctx.settings.env,
      ...(options.modelRetries !== undefined ? { maxRetries: options.modelRetries } : {}),
      ...(options.textSnapshotMs !== undefined ? { snapshotIntervalMs: options.textSnapshotMs } : {}),
    },
    // A run lives no longer than the authority of the token that started it.
    leases: ctx.connections,
    onLeaseLost: (info) => ctx.log.log('info', 'session.run_aborted', info),
  });

  ctx.onClose(async () => {
    await service.stopAll(options.shutdownGraceMs ?? 5_000);
    store.close();
  });

  // What the API shows of a session: the record, and whether a run holds it now.
  const info = (s: Session): SessionInfo => ({ ...s, busy: service.isBusy(s.id) });
  const tokenId = (c: Context) => c.get('auth').tokenId;

  // A scoped token (placeOf) sees, creates and reaches only sessions inside its scopes: any other
  // id is 404, exactly like an unknown one (`visible` checks before anything is done to it).
  const visible = (c: Context, id: string) => service.get(id, placeOf(c));

  app.openapi(listSessions, (c) => c.json({ sessions: service.list(placeOf(c)).map(info) }, 200));

  // Documented like the others, but parsed here: the body is optional, and an empty body is accepted
  // even with `Content-Type: application/json` (as some clients send it).
  app.openAPIRegistry.registerPath(createSession);
  app.post('/session', async (c) => {
    const body = await readOptionalJson(c, SessionCreateSchema);
    const directory = await startDirectory(c, ctx, body?.directory);
    return c.json(info(await service.create({ ...body, ...(directory === undefined ? {} : { directory }) }, placeOf(c))), 201);
  });

  app.openapi(getSession, (c) => c.json(info(visible(c, c.req.valid('param').id)), 200));

  app.openapi(patchSession, (c) => {
    const { id } = c.req.valid('param');
    visible(c, id);
    return c.json(info(service.update(id, c.req.valid('json'))), 200);
  });

  app.openapi(deleteSession, (c) => {
    const { id } = c.req.valid('param');
    visible(c, id);
    service.delete(id);
    return c.json({ id, deleted: true as const }, 200);
  });

  app.openapi(listMessages, (c) => {
    const { id } = c.req.valid('param');
    visible(c, id);
    return c.json({ messages: service.listMessages(id) }, 200);
  });

  // What runs is recorded in the caller's name before it runs (src/audit/).
  const audit = (c: Context, sessionId: string): RunAudit => {
    const actor = auditActor(c, ctx.clientAddress);
    return (kind, details) => ctx.audit.record(kind, actor, { ...details, sessionId } as AuditDetails[typeof kind]);
  };

  app.openapi(postMessage, async (c) => {
    const { id } = c.req.valid('param');
    const options = { watch: wantsEventStream(c), place: placeOf(c), audit: audit(c, id) };
    const run = await service.startAgent(id, c.req.valid('json'), tokenId(c), options);
    return respond(c, ctx, run);
  });

  app.openapi(postShell, async (c) => {
    const { id } = c.req.valid('param');
    const options = { watch: wantsEventStream(c), place: placeOf(c), audit: audit(c, id) };
    const run = await service.startShell(id, c.req.valid('json'), tokenId(c), options);
    return respond(c, ctx, run);
  });

  app.openapi(abortRun, async (c) => {
    const { id } = c.req.valid('param');
    visible(c, id);
    return c.json({ aborted: await service.abortAndWait(id) }, 200);
  });

  app.openapi(shareRoute('session', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    visible(c, id); // 404 for an unknown session (and one outside the caller's scopes)
    return c.json(await createShare(c, ctx, { type: 'session', id }, c.req.valid('json')), 201);
  });
}

/** The caller's own event stream if it asked for one, else the finished message. */
async function respond(c: Context, ctx: ServerContext, run: StartedRun) {
  if (run.events) return streamRun(c, ctx, run.events, run.done);
  return c.json(await run.done, 200);
}

/** POST /session accepts no body at all (defaults); a body, if sent, must be valid JSON of the schema. */
async function readOptionalJson<T extends z.ZodTypeAny>(c: Context, schema: T): Promise<z.infer<T> | undefined> {
  const raw = await c.req.text();
  if (raw.trim() === '') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `body${i.path.length ? '.' + i.path.map(String).join('.') : ''}: ${i.message}`).join('; '));
  }
  return parsed.data;
}
