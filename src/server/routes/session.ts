// Sessions and messages over HTTP: CRUD on sessions, the agent prompt, the shell runner and abort.
// Every path here starts with /session, so the guard requires execute (plus read for GET, write
// for the rest) before any handler runs; handlers only read the caller's token id.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { DEFAULT_MAX_STEPS } from '../../agent/agent.js';
import { resolveProviderSettings } from '../../agent/provider.js';
import { UsageError } from '../../errors.js';
import { EventBus } from '../../events.js';
import { startAgentMessage } from '../../session/agent-run.js';
import { SessionService, type SessionServiceOptions } from '../../session/service.js';
import { MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from '../../session/shell.js';
import { SessionStore, defaultDbFile } from '../../session/store.js';
import { MESSAGE_ROLES, MESSAGE_STATUSES, type Message, type Session } from '../../session/types.js';
import type { ServerContext } from '../context.js';
import type { RouteRegistrar } from '../app.js';
import { authErrors, errors, jsonContent } from './common.js';
import { SessionEventTap, compactEvent, streamRun, wantsEventStream } from './session-events.js';

export const PROMPT_MAX_CHARS = 200_000;
export const COMMAND_MAX_CHARS = 64 * 1024;
/** Request bodies on /session routes (a prompt of PROMPT_MAX_CHARS fits, even escaped). */
/** How long `POST /session/:id/abort` waits for the run to wind down before answering. */
const ABORT_WAIT_MS = 10_000;

export interface SessionRoutesOptions {
  /** Default `$XDG_DATA_HOME/tether/tether.db`, resolved when the routes are registered. */
  dbFile?: string;
  /** Shell runner settings (output cap, kill grace, environment). The runner always drops the
   * server's `TETHER_*` variables (which may hold the model API key) from the environment. */
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

// --- schemas ---

const SessionSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    directory: z.string().openapi({ description: 'Absolute real path of the working directory (inside the project)' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    busy: z.boolean().openapi({ description: 'Whether a prompt or shell command is running in it now' }),
  })
  .openapi('Session');

const PartSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    messageId: z.string(),
    seq: z.number().int(),
    type: z.string().openapi({ description: 'text | tool_call | tool_result | error | shell' }),
    data: z.unknown().openapi({
      description:
        'text: {text}; tool_call: {toolCallId, toolName, input}; tool_result: {toolCallId, toolName, output, isError}; ' +
        'error: {message}; shell: {command, cwd, done, exitCode, signal, stdout, stderr, stdoutTruncated, stderrTruncated, timedOut, aborted, durationMs}',
    }),
  })
  .openapi('Part');

const MessageSchema = z
  .object({
    id: z.string(),
    sessionId: z.string(),
    seq: z.number().int(),
    role: z.enum(MESSAGE_ROLES),
    tokenId: z.string().nullable().openapi({ description: 'Public id of the token that sent the request' }),
    status: z.enum(MESSAGE_STATUSES),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    error: z.string().nullable(),
    parts: z.array(PartSchema),
  })
  .openapi('Message');

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'ses_3q2ZK7m9TgWv0xYbL1cR8A' }),
});

const CreateBody = z
  .object({
    title: z.string().min(1).max(200).optional(),
    directory: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .openapi({ description: 'An existing directory inside the project, relative to it (or absolute); default the project itself' }),
  })
  .strict()
  .openapi('SessionCreate');

const PatchBody = z.object({ title: z.string().min(1).max(200).optional() }).strict().openapi('SessionPatch');

const notBlank = (s: string) => s.trim().length > 0;

const MessageBody = z
  .object({ text: z.string().max(PROMPT_MAX_CHARS).refine(notBlank, 'must not be empty or blank') })
  .strict()
  .openapi('MessageCreate');

const ShellBody = z
  .object({
    command: z
      .string()
      .max(COMMAND_MAX_CHARS)
      .refine(notBlank, 'must not be empty or blank')
      .refine((s) => !s.includes('\0'), 'must not contain a NUL byte'),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMEOUT_MS)
      .optional()
      .openapi({ description: `Killed after this long (default ${DEFAULT_TIMEOUT_MS})` }),
  })
  .strict()
  .openapi('ShellCommand');

const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });

const streamedOrJson = (description: string) => ({
  description:
    `${description}. With \`Accept: text/event-stream\` the response is a stream of events instead: ` +
    'message.created, message.part, message.part.delta ({partId, offset, text}), message.part.updated, message.completed, ' +
    'then `done` ({message}: the final message) or `error` ({error: {code, message}}); each data line is {"type", "properties"}. ' +
    'If the client disconnects the run continues (stop it with POST /session/{id}/abort); a revoked token aborts it.',
  content: {
    'application/json': { schema: MessageSchema },
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
  responses: { 200: jsonContent(z.object({ sessions: z.array(SessionSchema) }), 'Sessions'), ...authErrors },
});

const createSession = createRoute({
  method: 'post',
  path: '/session',
  tags,
  summary: 'Create a session in a directory inside the project',
  request: { body: { content: { 'application/json': { schema: CreateBody } }, required: false } },
  responses: { 201: jsonContent(SessionSchema, 'The new session'), 400: errors[400], ...authErrors },
});

const getSession = createRoute({
  method: 'get',
  path: '/session/{id}',
  tags,
  summary: 'One session',
  request: { params: IdParam },
  responses: { 200: jsonContent(SessionSchema, 'The session'), 404: errors[404], ...authErrors },
});

const patchSession = createRoute({
  method: 'patch',
  path: '/session/{id}',
  tags,
  summary: 'Rename a session',
  request: { params: IdParam, ...jsonBody(PatchBody) },
  responses: { 200: jsonContent(SessionSchema, 'The updated session'), 400: errors[400], 404: errors[404], ...authErrors },
});

const deleteSession = createRoute({
  method: 'delete',
  path: '/session/{id}',
  tags,
  summary: 'Delete a session with all its messages (a running prompt or command is aborted first)',
  request: { params: IdParam },
  responses: {
    200: jsonContent(z.object({ id: z.string(), deleted: z.literal(true) }), 'Deleted'),
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
  responses: { 200: jsonContent(z.object({ messages: z.array(MessageSchema) }), 'Messages'), 404: errors[404], ...authErrors },
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
    200: jsonContent(z.object({ aborted: z.boolean().openapi({ description: 'false if nothing was running' }) }), 'Done'),
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

function registerSessionRoutes(app: OpenAPIHono, ctx: ServerContext, options: SessionRoutesOptions): void {
  const store = new SessionStore(options.dbFile ?? defaultDbFile());
  if (store.recoveredMessages > 0) {
    ctx.log.log('warn', 'session.recovered', { file: store.file, messages: store.recoveredMessages, note: 'marked as interrupted by a restart' });
  }
  // The service publishes on its own bus: the caller's stream gets events whole, `GET /event` compact.
  const bus = new EventBus();
  bus.subscribe((e) => ctx.events.publish(e.type, compactEvent(e.properties)));
  const service = new SessionService({
    store,
    events: bus,
    projectDir: ctx.projectDir,
    ...(options.shell ? { shell: options.shell } : {}),
  });
  const runs = new ActiveRuns(service, ctx);

  ctx.onClose(async () => {
    runs.abortAll();
    await runs.settled(options.shutdownGraceMs ?? 5_000);
    store.close();
  });

  const sessionJson = (s: Session) => ({ ...s, busy: service.isBusy(s.id) });

  app.openapi(listSessions, (c) => c.json({ sessions: service.list().map(sessionJson) }, 200));

  // Documented like the others, but parsed here: the body is optional, and an empty body is accepted
  // even with `Content-Type: application/json` (as some clients send it).
  app.openAPIRegistry.registerPath(createSession);
  app.post('/session', async (c) => {
    const body = (await readOptionalJson(c, CreateBody)) ?? {};
    const session = await service.create(body);
    return c.json(sessionJson(session), 201);
  });

  app.openapi(getSession, (c) => c.json(sessionJson(service.get(c.req.valid('param').id)), 200));

  app.openapi(patchSession, (c) => {
    const { id } = c.req.valid('param');
    return c.json(sessionJson(service.update(id, c.req.valid('json'))), 200);
  });

  app.openapi(deleteSession, (c) => {
    const { id } = c.req.valid('param');
    service.delete(id);
    return c.json({ id, deleted: true as const }, 200);
  });

  app.openapi(listMessages, (c) => c.json({ messages: service.listMessages(c.req.valid('param').id) }, 200));

  app.openapi(postMessage, async (c) => {
    const { id } = c.req.valid('param');
    const { text } = c.req.valid('json');
    const tokenId = c.get('auth').tokenId;
    // Refusals first, before anything is recorded: 404, 503, 400/403, 409.
    const session = service.get(id);
    const config = await ctx.settings.get();
    const settings = resolveProviderSettings(config, options.env ? options.env() : process.env);
    const directory = await service.directory(session.id);
    const tap = wantsEventStream(c) ? new SessionEventTap(bus, id) : null;
    let started;
    const handle = claim(() => service.beginRun(id), tap);
    try {
      started = startAgentMessage({
        service,
        store,
        events: bus,
        sessionId: id,
        text,
        tokenId,
        settings,
        directory: directory.path,
        directoryPin: directory.pin,
        maxSteps: config.agentMaxSteps ?? DEFAULT_MAX_STEPS,
        signal: handle.signal,
        ...(options.modelRetries !== undefined ? { maxRetries: options.modelRetries } : {}),
        ...(options.textSnapshotMs !== undefined ? { snapshotIntervalMs: options.textSnapshotMs } : {}),
      });
    } catch (err) {
      handle.end();
      tap?.close();
      throw err;
    }
    const finished = runs.track(id, tokenId, started.done.finally(() => handle.end()));
    return respond(c, ctx, tap, finished);
  });

  app.openapi(postShell, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tokenId = c.get('auth').tokenId;
    const session = service.get(id);
    // Checked here so that a bad directory is a plain 400/403, never an event in a started stream.
    await service.directory(session.id);
    const tap = wantsEventStream(c) ? new SessionEventTap(bus, id) : null;
    // Probe: throws 404/409 exactly as runShell would, and runShell claims the session in the same
    // tick (its checks before the first await are synchronous), so nothing can slip in between.
    claim(() => service.beginRun(id), tap).end();
    const finished = runs.track(id, tokenId, service.runShell(id, body, tokenId));
    return respond(c, ctx, tap, finished);
  });

  app.openapi(abortRun, async (c) => {
    const { id } = c.req.valid('param');
    const aborted = service.abort(id);
    if (aborted) await runs.waitIdle(id, ABORT_WAIT_MS);
    return c.json({ aborted }, 200);
  });
}

/** Claims the session, closing the event tap if it cannot be claimed. */
function claim<T>(begin: () => T, tap: SessionEventTap | null): T {
  try {
    return begin();
  } catch (err) {
    tap?.close();
    throw err;
  }
}

async function respond(c: Context, ctx: ServerContext, tap: SessionEventTap | null, finished: Promise<Message>) {
  if (tap) return streamRun(c, ctx, tap, finished);
  return c.json(await finished, 200);
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
    throw new UsageError(
      parsed.error.issues.map((i) => `body${i.path.length ? '.' + i.path.map(String).join('.') : ''}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/**
 * The runs this server started, per session: so abort can wait for one to wind down, a revoked or
 * expired token stops the runs it started, and shutdown aborts them all and lets them record
 * their end before the database closes.
 */
class ActiveRuns {
  private readonly runs = new Map<string, Promise<void>>();

  constructor(
    private readonly service: SessionService,
    private readonly ctx: ServerContext,
  ) {}

  track(sessionId: string, tokenId: string | null, run: Promise<Message>): Promise<Message> {
    // A run lives no longer than the authority of the token that started it.
    const unregister = this.ctx.connections.add(tokenId, (reason) => {
      try {
        this.service.abort(sessionId);
      } catch {
        // deleted meanwhile
      }
      this.ctx.log.log('info', 'session.run_aborted', { sessionId, tokenId, reason });
    });
    const settled = run.then(
      () => {},
      () => {},
    );
    this.runs.set(sessionId, settled);
    void settled.then(() => {
      unregister();
      if (this.runs.get(sessionId) === settled) this.runs.delete(sessionId);
    });
    return run;
  }

  async waitIdle(sessionId: string, timeoutMs: number): Promise<void> {
    const run = this.runs.get(sessionId);
    if (run) await withTimeout(run, timeoutMs);
  }

  abortAll(): void {
    for (const sessionId of this.runs.keys()) {
      try {
        this.service.abort(sessionId);
      } catch {
        // deleted meanwhile
      }
    }
  }

  async settled(timeoutMs: number): Promise<void> {
    await withTimeout(Promise.all(this.runs.values()), timeoutMs);
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
