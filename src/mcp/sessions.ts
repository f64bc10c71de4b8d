// MCP sessions (Mcp-Session-Id). Each belongs to the token that opened it: another token naming it
// gets 404, as if it did not exist. A session ends on DELETE, after an hour idle, when its token is
// deleted or expires (LiveConnections sweeps within a second), or on shutdown.
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Permission } from '../auth/permissions.js';
import type { Logger } from '../log.js';
import { apiCaller, apiErrorText, type ApiCaller, type AppFetch, type CallerSeed } from './api.js';
import { registerResources } from './resources.js';
import { registerTools, type ToolContext } from './tools.js';

export const MAX_SESSIONS_PER_TOKEN = 16;
export const IDLE_MS = 60 * 60 * 1000;

export interface McpSession {
  id: string | undefined;
  tokenId: string | null;
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** The tether session its commands and prompts are recorded in, once one is needed. */
  tetherSession?: Promise<string>;
  unregister: () => void;
}

/** Where live connections register, to be closed when their token is revoked or expires (the
 * server's LiveConnections; an interface here so that src/mcp does not depend on src/server). */
export interface ConnectionRegistry {
  add(tokenId: string | null, close: (reason: string) => void): () => void;
}

export interface McpSessionsOptions {
  app: AppFetch;
  connections: ConnectionRegistry;
  log: Logger;
  version: string;
  now?: () => number;
}

/** What the transport hands each handler (`authInfo.extra`): the credential of the request served. */
interface Extra {
  authInfo?: { extra?: { seed?: CallerSeed } };
  _meta?: { progressToken?: string | number };
  sendNotification?: (n: { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; message?: string } }) => Promise<void>;
}

export class McpSessions {
  private readonly byId = new Map<string, McpSession>();
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: McpSessionsOptions) {
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.expireIdle(), 60_000);
    this.timer.unref();
  }

  get size(): number {
    return this.byId.size;
  }

  countFor(tokenId: string | null): number {
    let n = 0;
    for (const s of this.byId.values()) if (s.tokenId === tokenId) n++;
    return n;
  }

  /** Makes room for one more session of `tokenId`: at the cap, its least recently used one ends.
   * (Clients often drop sessions without DELETE; refusing would lock them out for an hour.) */
  async makeRoom(tokenId: string | null): Promise<void> {
    const mine = [...this.byId.values()].filter((s) => s.tokenId === tokenId).sort((a, b) => a.lastSeen - b.lastSeen);
    for (const s of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_TOKEN + 1))) {
      this.opts.log.log('info', 'mcp.session_evicted', { tokenId, sessions: mine.length });
      await this.close(s);
    }
  }

  /** The session `id` if `tokenId` opened it; undefined otherwise (never says which). */
  get(id: string, tokenId: string | null): McpSession | undefined {
    const s = this.byId.get(id);
    if (!s || s.tokenId !== tokenId) return undefined;
    s.lastSeen = this.now();
    return s;
  }

  /** A new, uninitialized session for `tokenId`, with the tools `permissions` allow. */
  create(tokenId: string | null, permissions: readonly Permission[]): McpSession {
    const server = new McpServer(
      { name: 'tether', version: this.opts.version },
      {
        capabilities: { logging: {}, tools: {}, resources: {} },
        instructions: 'tether: files, search, shell commands and an agent in one project, within what your token allows.',
      },
    );
    const session: McpSession = {
      id: undefined,
      tokenId,
      server,
      lastSeen: this.now(),
      unregister: () => {},
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          session.id = id;
          this.byId.set(id, session);
          session.unregister = this.opts.connections.add(tokenId, (reason) => {
            this.opts.log.log('info', 'mcp.session_closed', { tokenId, reason });
            void this.close(session);
          });
        },
        onsessionclosed: () => void this.close(session),
      }),
    };
    const callerOf = (extra: unknown): ApiCaller => {
      const seed = (extra as Extra).authInfo?.extra?.seed;
      if (!seed) throw new Error('internal: an MCP call without its request');
      return apiCaller(this.opts.app, seed);
    };
    const toolContext = (extra: unknown): ToolContext => {
      const e = extra as Extra;
      let progress = 0;
      return {
        caller: () => callerOf(extra),
        session: (caller) =>
          (session.tetherSession ??= this.tetherSession(caller, server)).catch((err: unknown) => {
            session.tetherSession = undefined; // a failure is not remembered: the next call tries again
            throw err;
          }),
        progress: async (message) => {
          const token = e._meta?.progressToken;
          if (token === undefined || !e.sendNotification) return;
          await e.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message } });
        },
      };
    };
    registerTools(server, permissions, toolContext);
    registerResources(server, callerOf);
    return session;
  }

  private async tetherSession(caller: ApiCaller, server: McpServer): Promise<string> {
    const client = server.server.getClientVersion()?.name ?? 'client';
    const title = `MCP: ${client}`.slice(0, 200);
    const r = await caller.json('POST', '/session', { body: { title } });
    if (r.status !== 200 && r.status !== 201) throw new Error(`cannot create a tether session for this MCP session: ${apiErrorText(r)}`);
    return (r.body as { id: string }).id;
  }

  async close(session: McpSession): Promise<void> {
    if (session.id !== undefined && this.byId.get(session.id) === session) this.byId.delete(session.id);
    session.unregister();
    session.unregister = () => {};
    try {
      await session.server.close();
    } catch {
      // already closed
    }
  }

  /** Ends every session idle for IDLE_MS (run every minute; public for tests). */
  expireIdle(): void {
    const cutoff = this.now() - IDLE_MS;
    for (const s of [...this.byId.values()]) if (s.lastSeen < cutoff) void this.close(s);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.byId.values()].map((s) => this.close(s)));
  }
}
