// Terminals: `GET/POST /pty`, `GET/PUT/DELETE /pty/:id`, `POST /pty/:id/ticket` and the WebSocket
// `GET /pty/:id/connect`. Every one of them needs execute (first segment `pty`) on top of read or
// write by method, and the upgrade needs read+execute: the guard decides, never this file.
//
// The WebSocket protocol (frames, control messages, close codes) is described once, in the README
// ("Terminals" -> "WebSocket protocol"); how a connection authenticates is src/auth/credential-list.ts.
import { createRoute, z } from '@hono/zod-openapi';
import { upgradeWebSocket } from '@hono/node-server';
import type { Context } from 'hono';
import type { WebSocket } from 'ws';
import { PtyManager, type AttachHandle, type PtyClient, type PtyClientMessage, type PtyManagerOptions, type PtyServerMessage } from '../../pty/index.js';
import { CreatePtySchema, PtyInfoSchema, PtyTicketSchema, UpdatePtySchema } from '../../pty/shapes.js';
import { errorMessage } from '../../errors.js';
import type { CloseReason } from '../connections.js';
import type { RouteRegistrar, ServerContext } from '../context.js';
import type { AuditActor } from '../../audit/kinds.js';
import { auditActor } from '../audit.js';
import { errorJson } from '../http-errors.js';
import { WS_PROTOCOL, isWebSocketUpgrade } from '../../auth/credential-headers.js';
import type { TicketStore } from '../../auth/tickets.js';
import { placeOf, startDirectory } from '../place.js';
import { viewOnlyConnection } from '../../auth/policy.js';
import { authErrors, errors, jsonContent } from './common.js';
import { createShare, shareRoute } from './share.js';

export const CLOSE_EXITED = 1000;
export const CLOSE_SHUTDOWN = 1001;
export const CLOSE_TOKEN_GONE = 4401;
export const CLOSE_NOT_FOUND = 4404;
/** After the server starts a close, a peer that has not read up to the close frame by then is cut off. */
const CLOSE_GRACE_MS = 2000;
const WS_OPEN = 1;

const PtySchema = PtyInfoSchema.openapi('Pty');
const CreateBody = CreatePtySchema.openapi('PtyCreate');
const UpdateBody = UpdatePtySchema.openapi('PtyUpdate');

const IdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'pty_0123456789abcdef' }),
});

const TicketSchema = PtyTicketSchema.openapi('PtyTicket');

const list = createRoute({
  method: 'get',
  path: '/pty',
  summary: 'List terminals (running, and recently exited ones with their exit status)',
  responses: { 200: jsonContent(z.array(PtySchema), 'Terminals'), ...authErrors },
});

const create = createRoute({
  method: 'post',
  path: '/pty',
  summary: 'Start a terminal (a real pty) in the project',
  request: { body: { content: { 'application/json': { schema: CreateBody } }, required: false } },
  responses: { 201: jsonContent(PtySchema, 'The new terminal'), 400: errors[400], 503: errors[503], ...authErrors },
});

const get = createRoute({
  method: 'get',
  path: '/pty/{id}',
  summary: 'One terminal',
  request: { params: IdParams },
  responses: { 200: jsonContent(PtySchema, 'The terminal'), 404: errors[404], ...authErrors },
});

const update = createRoute({
  method: 'put',
  path: '/pty/{id}',
  summary: 'Resize and/or rename a terminal',
  request: { params: IdParams, body: { content: { 'application/json': { schema: UpdateBody } }, required: true } },
  responses: { 200: jsonContent(PtySchema, 'The terminal'), 400: errors[400], 404: errors[404], ...authErrors },
});

const remove = createRoute({
  method: 'delete',
  path: '/pty/{id}',
  summary: 'End a terminal and every process in its process session (SIGHUP, then SIGKILL), and remove it',
  request: { params: IdParams },
  responses: { 204: { description: 'Ended and removed' }, 404: errors[404], ...authErrors },
});

const ticket = createRoute({
  method: 'post',
  path: '/pty/{id}/ticket',
  summary: 'A one-time ticket to open GET /pty/{id}/connect as ?ticket= (for browsers, which cannot set headers on a WebSocket)',
  description: 'Valid 30 s, usable once, only for this terminal, and only while the token that asked for it exists.',
  request: { params: IdParams },
  responses: { 201: jsonContent(TicketSchema, 'The ticket'), 404: errors[404], ...authErrors },
});

const CONNECT_DESCRIPTION = `WebSocket (subprotocol "${WS_PROTOCOL}"). Needs read+execute. Credentials: Authorization header; or offer the subprotocols "${WS_PROTOCOL}" and "${WS_PROTOCOL}.auth.<token>" (the server selects "${WS_PROTOCOL}" only); or ?ticket= from POST /pty/{id}/ticket. Never a token in the URL.
Server to client: binary frames = terminal output bytes (scrollback first); text frames = JSON {"type":"exit","exitCode","signal"} or {"type":"error","message"}.
Client to server: binary frames = keystroke bytes; text frames = JSON {"type":"input","data"} or {"type":"resize","cols","rows"}.
View only (?view=1, and always for a share link's token): the server ignores every client frame; output is the same.
Close codes: 1000 process ended (reason "exit:<code>" or "signal:<n>"), 1001 server shutting down, 4008 client too slow, 4401 token revoked/expired, 4404 terminal not found.`;

export interface PtyRoutesOptions {
  /** Terminal manager options (projectDir and events come from the server context). */
  manager?: Omit<PtyManagerOptions, 'projectDir' | 'events'>;
  /** How long a server-side close waits for the peer before cutting the connection. Default 2 s. */
  closeGraceMs?: number;
  /** Receives the manager and ticket store (tests, benchmarks). */
  expose?: (parts: { manager: PtyManager; tickets: TicketStore }) => void;
}

/** The terminal routes with options; `registerPty` is this with the defaults. */
export function ptyRoutes(opts: PtyRoutesOptions = {}): RouteRegistrar {
  return (app, ctx) => {
    const manager = new PtyManager({ ...opts.manager, projectDir: ctx.projectDir, events: ctx.events });
    const tickets = ctx.tickets;
    opts.expose?.({ manager, tickets });
    // Who started each running terminal, for the audit line of its exit.
    const starters = new Map<string, { actor: AuditActor; command: string }>();
    const unsubscribe = ctx.events.subscribe((e) => {
      if (e.type !== 'pty.exited') return;
      const { id, exitCode, signal } = e.properties as { id: string; exitCode: number | null; signal: number | null };
      const started = starters.get(id);
      if (!started) return;
      starters.delete(id);
      ctx.audit.record('pty.exit', started.actor, { ptyId: id, command: started.command, exitCode, signal });
    });
    ctx.onClose(async () => {
      const { remaining } = await manager.disposeAll();
      unsubscribe();
      if (remaining.length > 0) ctx.log.log('error', 'pty.orphans', { pids: remaining });
    });

    // A scoped token (placeOf) sees, starts and reaches only terminals inside its scopes: any
    // other id is 404, exactly like an unknown one. Checked before anything is done to it.
    app.openapi(list, (c) => c.json(manager.list(placeOf(c)), 200));

    app.openapi(create, async (c) => {
      const body = c.req.valid('json') ?? {};
      const command = body.command ?? (await ctx.settings.get()).shell;
      const cwd = await startDirectory(c, ctx, body.cwd);
      const info = await manager.create(
        { ...body, ...(command === undefined ? {} : { command }), ...(cwd === undefined ? {} : { cwd }), ownerTokenId: c.get('auth').tokenId },
        placeOf(c),
      );
      const actor = auditActor(c, ctx.clientAddress);
      ctx.audit.record('pty.start', actor, { ptyId: info.id, command: info.command, args: info.args, cwd: info.cwd });
      // The exit arrives as an I/O event, never before this synchronous continuation of create().
      starters.set(info.id, { actor, command: info.command });
      return c.json(info, 201);
    });

    app.openapi(get, (c) => c.json(manager.get(c.req.valid('param').id, placeOf(c)), 200));

    app.openapi(update, (c) => c.json(manager.update(c.req.valid('param').id, c.req.valid('json'), placeOf(c)), 200));

    app.openapi(remove, async (c) => {
      const { id } = c.req.valid('param');
      await manager.kill(id, placeOf(c));
      tickets.dropScope(connectPath(id));
      return c.body(null, 204);
    });

    app.openapi(ticket, (c) => {
      const { id } = c.req.valid('param');
      manager.get(id, placeOf(c)); // 404 for an unknown terminal, or one outside the caller's scopes
      const path = connectPath(id);
      const issued = tickets.issue(c.get('auth').tokenId, path);
      return c.json({ ticket: issued.ticket, expiresAt: new Date(issued.expiresAt).toISOString(), url: `${path}?ticket=${issued.ticket}` }, 201);
    });

    app.openapi(shareRoute('pty', IdParams), async (c) => {
      const { id } = c.req.valid('param');
      manager.get(id, placeOf(c)); // 404 for an unknown terminal (and one outside the caller's scopes)
      return c.json(await createShare(c, ctx, { type: 'pty', id }, c.req.valid('json')), 201);
    });

    const upgrade = upgradeWebSocket((c: Context) => {
      const id = c.req.param('id')!;
      const auth = c.get('auth');
      const tokenId = auth.tokenId;
      // Decided by the policy: a share token's connection is view only whatever it asks.
      const viewOnly = viewOnlyConnection(auth.share, c.req.query('view') === '1');
      let conn: TerminalSocket | undefined;
      return {
        onOpen: (_e, ws) => {
          conn = new TerminalSocket(ws.raw as WebSocket, id, tokenId, manager, ctx, opts.closeGraceMs ?? CLOSE_GRACE_MS, viewOnly);
          conn.start();
        },
        onMessage: (e: { data: unknown }) => conn?.message(e.data),
        onClose: () => conn?.closed(),
        onError: () => conn?.closed(),
      };
    });

    app.get('/pty/:id/connect', async (c, next) => {
      manager.get(c.req.param('id'), placeOf(c)); // 404 before any upgrade (also outside the caller's scopes)
      const view = c.req.queries('view');
      if (view !== undefined && (view.length !== 1 || view[0] !== '1')) {
        return errorJson(c, 400, 'bad_request', 'view takes the value 1, once (?view=1 opens a view-only connection); leave it out to attach');
      }
      if (!isWebSocketUpgrade(c.req.header('upgrade'))) {
        c.header('Upgrade', 'websocket');
        return errorJson(
          c,
          426,
          'upgrade_required',
          `GET /pty/:id/connect is a WebSocket endpoint (subprotocol "${WS_PROTOCOL}"); connect with a WebSocket client`,
        );
      }
      return upgrade(c, next);
    });
    app.openAPIRegistry.registerPath({
      method: 'get',
      path: '/pty/{id}/connect',
      summary: 'Attach to a terminal over a WebSocket',
      description: CONNECT_DESCRIPTION,
      request: {
        params: IdParams,
        query: z.object({
          ticket: z.string().optional().openapi({ description: 'One-time ticket from POST /pty/{id}/ticket' }),
          view: z.literal('1').optional().openapi({ description: 'A view-only connection: the server ignores every client frame' }),
        }),
      },
      responses: {
        101: { description: 'Switching protocols' },
        404: errors[404],
        426: { description: 'Not a WebSocket upgrade' },
        ...authErrors,
      },
    });
  };
}

export const registerPty: RouteRegistrar = ptyRoutes();

function connectPath(id: string): string {
  return `/pty/${id}/connect`;
}

function parseControl(text: string): PtyClientMessage | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'text frames must be JSON control messages: {"type":"input","data":"..."} or {"type":"resize","cols":N,"rows":N}; send keystrokes as binary frames or as an input message';
  }
  if (typeof msg !== 'object' || msg === null) return 'a control message must be a JSON object with a "type"';
  const m = msg as Record<string, unknown>;
  if (m.type === 'input') {
    if (typeof m.data !== 'string') return 'input: "data" must be a string';
    return { type: 'input', data: m.data };
  }
  if (m.type === 'resize') {
    return { type: 'resize', cols: m.cols as number, rows: m.rows as number }; // checked by the manager
  }
  return `unknown control message type ${JSON.stringify(m.type)?.slice(0, 40)}; accepted: "input", "resize"`;
}

/** One WebSocket attached to one terminal: a PtyClient for the manager, a live connection for revocation. */
class TerminalSocket implements PtyClient {
  private handle: AttachHandle | undefined;
  private unregister: (() => void) | undefined;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;
  /** When a write of ours last completed (the peer took data): closing waits only for a peer that does. */
  private lastWrite = performance.now();

  constructor(
    private readonly ws: WebSocket,
    private readonly id: string,
    private readonly tokenId: string | null,
    private readonly manager: PtyManager,
    private readonly ctx: ServerContext,
    private readonly closeGraceMs: number,
    /** View only: input and resize frames are dropped unread. */
    private readonly viewOnly = false,
  ) {}

  start(): void {
    // Registered first: a token revoked while we attach still reaches this connection. Once closing
    // (after an exit the peer may still be reading the output's tail), revocation cuts it at once.
    this.unregister = this.ctx.connections.add(this.tokenId, (reason: CloseReason) => {
      if (this.done) this.ws.terminate();
      else this.shutdown(reason === 'server shutting down' ? CLOSE_SHUTDOWN : CLOSE_TOKEN_GONE, reason);
    });
    try {
      // May replay, and for an exited terminal call onExit, before it returns.
      const handle = this.manager.attach(this.id, this);
      if (this.done) handle.detach();
      else this.handle = handle;
    } catch (err) {
      this.shutdown(CLOSE_NOT_FOUND, 'terminal not found');
      this.ctx.log.log('debug', 'pty.attach_failed', { id: this.id, error: errorMessage(err) });
    }
  }

  // PtyClient
  send(data: Buffer): void {
    if (this.ws.readyState === WS_OPEN) this.ws.send(data, { binary: true }, this.sent);
  }

  /** Write callback: bytes left our buffer, so a terminal paused for this client may go on (flow control). */
  private readonly sent = (): void => {
    this.lastWrite = performance.now();
    this.handle?.drained();
  };

  bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    this.shutdown(code, reason);
  }

  onExit(exitCode: number | null, signal: number | null): void {
    this.sendControl({ type: 'exit', exitCode, signal });
    this.shutdown(CLOSE_EXITED, signal !== null ? `signal:${signal}` : `exit:${exitCode}`);
  }

  /** A message from the client. */
  message(data: unknown): void {
    if (this.done || !this.handle || this.viewOnly) return;
    if (typeof data !== 'string') {
      if (data instanceof ArrayBuffer) this.handle.write(Buffer.from(data));
      else if (ArrayBuffer.isView(data)) this.handle.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      return;
    }
    const msg = parseControl(data);
    if (typeof msg === 'string') return this.sendControl({ type: 'error', message: msg });
    if (msg.type === 'input') return this.handle.write(msg.data);
    try {
      this.handle.resize(msg.cols, msg.rows);
    } catch (err) {
      this.sendControl({ type: 'error', message: `resize: ${errorMessage(err)}` });
    }
  }

  /** The socket closed (by either side). */
  closed(): void {
    this.done = true;
    clearTimeout(this.killTimer);
    this.detach();
    this.unregister?.();
    this.unregister = undefined;
  }

  private sendControl(msg: PtyServerMessage): void {
    if (this.ws.readyState === WS_OPEN) this.ws.send(JSON.stringify(msg));
  }

  private detach(): void {
    this.handle?.detach();
    this.handle = undefined;
  }

  /**
   * Server-side close: stop input and output at once, then close the socket with code and reason.
   * A peer that has not read up to the close frame within the grace period is cut off, except
   * after an exit while it is still taking data: flow control let the program run only this far
   * ahead of it, and the output's tail must reach it. Such a peer is cut off once our writes make
   * no progress for slowClientTimeoutMs (or the grace, if longer), or its token is revoked.
   */
  private shutdown(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
      return;
    }
    const stallMs = Math.max(this.closeGraceMs, this.manager.slowClientTimeoutMs);
    const expire = (): void => {
      const reading = code === CLOSE_EXITED && this.ws.bufferedAmount > 0 && performance.now() - this.lastWrite < stallMs;
      if (!reading) return this.ws.terminate();
      this.killTimer = setTimeout(expire, this.closeGraceMs).unref();
    };
    this.killTimer = setTimeout(expire, this.closeGraceMs).unref();
  }
}
