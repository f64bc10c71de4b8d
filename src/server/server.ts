// Starts a tether server: loads the token file (refusing to start if it is unreadable or invalid),
// assembles the app and listens. Used by `tether serve` and by tests.
import fs from 'node:fs';
import https from 'node:https';
import type { ServerResponse as NodeServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'hono';
import { serve, type ServerType, type WebSocketServerLike } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { EventBus } from '../events.js';
import { LiveTokens } from '../auth/live-tokens.js';
import { FailureLimiter } from '../auth/limiter.js';
import { tokenFilePath } from '../auth/token-file.js';
import { SettingsStore } from '../config/settings.js';
import { reservedPaths } from '../fs/reserved.js';
import { TetherError } from '../errors.js';
import { dataDir } from '../paths.js';
import { recordProcesses } from '../proc/reap.js';
import { createApp } from './app.js';
import { WebLogins } from '../auth/web-logins.js';
import { OAuthState } from '../auth/oauth/state.js';
import { clientsFilePath } from '../auth/oauth/client-store.js';
import { webLoginsFilePath } from '../auth/web-login-file.js';
import { PairingCodes, type PairingOptions } from '../auth/pairing.js';
import { PairingService } from '../auth/pairing-service.js';
import { TicketStore, type TicketStoreOptions } from '../auth/tickets.js';
import { WS_PROTOCOL } from '../auth/credential-headers.js';
import { allowedHostNames } from './hosts.js';
import { LiveConnections } from './connections.js';
import { LastUsedTracker } from './last-used.js';
import { SecureServerResponse } from './security-headers.js';
import { jsonLogger, type Logger } from '../log.js';
import { collapseAuthFailures } from './failure-log.js';
import { AuditLog, type AuditLogOptions } from '../audit/log.js';
import { SERVER_ADDRESS } from '../audit/kinds.js';
import { auditFailures } from './audit.js';
import { SocketLimits, defaultMaxConnections } from './socket-limits.js';
import type { RouteRegistrar, ServerContext } from './context.js';

/** The socket a request came on; undefined for a request served in-process (app.fetch: the MCP
 * tools, tests), which has none. Read straight from the adapter's bindings: getConnInfo throws a
 * TypeError without a socket, and its stack trace cost more than the rest of the request. */
function clientSocket(c: Context): import('node:net').Socket | undefined {
  return incomingOf(c)?.socket ?? undefined;
}

/** Node's request behind a Hono context (through the WebSocket adapter's nesting); undefined in-process. */
function incomingOf(c: Context): import('node:http').IncomingMessage | undefined {
  type Bindings = { server?: Bindings; incoming?: import('node:http').IncomingMessage } | undefined;
  const env = c.env as Bindings;
  return (env?.server ?? env)?.incoming;
}

/** The request's Authorization header exactly as sent, if it sent exactly one; else undefined (none,
 * several, or in-process). Read from Node's raw header list: the Web Headers view copies that list
 * and normalises each value on every read, and this is read on every authenticated request. */
export function rawAuthorization(c: Context): string | undefined {
  const raw = incomingOf(c)?.rawHeaders;
  if (raw === undefined) return undefined;
  let found: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      if (found !== undefined) return undefined;
      found = raw[i + 1];
    }
  }
  return found;
}

/** The client's address as the socket reports it ('unknown' when it has none). */
function clientAddress(c: Context): string {
  return clientSocket(c)?.remoteAddress ?? 'unknown';
}

/**
 * TLS as served: 1.2 and 1.3 only, and only AEAD suites with forward secrecy: ECDHE with AES-GCM
 * or ChaCha20-Poly1305 for TLS 1.2 (no CBC, no RSA key exchange, no DHE), and TLS 1.3's own AEAD
 * suites. The TLS_ names are TLS 1.3's; Node takes both kinds in one list.
 */
export const TLS_OPTIONS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;

/** How long shutdown waits for open responses to finish before closing their sockets. */
const SHUTDOWN_GRACE_MS = 200;

/** Timeouts and socket caps against clients that connect and stall (see socket-limits.ts). */
export interface ServerLimits {
  /** A request's headers must all arrive within this, or the socket is closed (408). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this. It covers only receiving the
   * request: a response may stream for as long as it likes (SSE, WebSockets). */
  requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open sockets in total (default: half the file-descriptor limit, 16..4096). */
  maxConnections: number;
  /** Open sockets per client network (loopback is one). */
  maxConnectionsPerAddress: number;
}

export function defaultLimits(): ServerLimits {
  return {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 60_000,
    keepAliveTimeoutMs: 5_000,
    maxConnections: defaultMaxConnections(),
    maxConnectionsPerAddress: 256,
  };
}

export interface StartOptions {
  port: number;
  hostname: string;
  projectDir: string;
  /** false = --no-auth (the CLI allows it on loopback only). */
  auth: boolean;
  tokenFile?: string;
  settingsFile?: string;
  cors?: string[];
  allowedHosts?: string[];
  tls?: { cert: Buffer; key: Buffer };
  log?: Logger;
  heartbeatMs?: number;
  sweepMs?: number;
  /** How stale the view of the token file may be (live-tokens.ts; tests widen it). Default MAX_STALENESS_MS (src/auth/revocation.ts). */
  tokenStalenessMs?: number;
  limits?: Partial<ServerLimits>;
  /** Routes beyond the core ones (see routes/index.ts): `serve` passes productionRegistrars(). */
  registrars?: RouteRegistrar[];
  version?: string;
  /** WebSocket ticket options (tests use a fake clock). */
  tickets?: TicketStoreOptions;
  /** Pairing code options (tests use a fake clock). */
  pairing?: PairingOptions;
  /** Where web logins are kept across restarts (default: web-logins.json in the data directory). */
  webLoginsFile?: string;
  /** Audit log options (default: `$XDG_STATE_HOME/tether/audit.jsonl`, 5 files of 10 MiB). */
  audit?: Omit<AuditLogOptions, 'log'>;
}

export interface RunningServer {
  url: string;
  port: number;
  /** The address actually bound (a name like localhost is resolved by listen). */
  address: string;
  sockets: SocketLimits;
  ctx: ServerContext;
  /**
   * The app's fetch handler, for in-process measurements (bench) without the network. `socket`
   * stands for the connection a request came on (what the per-connection verify memo keys on).
   */
  fetch: (request: Request, socket?: object) => Response | Promise<Response>;
  /** Every registered route handler (method, router path): the policy-coverage test reads it. */
  routes: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const baseLog = opts.log ?? jsonLogger();
  // Its own failures go to the server log (it never stops a request: see src/audit/log.ts).
  const audit = new AuditLog({ ...opts.audit, log: baseLog });
  // Authentication failures are collapsed per network so they cannot flood the log, nor the audit
  // log, which gets the collapsed lines.
  const log = collapseAuthFailures(auditFailures(baseLog, audit));
  const limits = { ...defaultLimits(), ...opts.limits };
  const sockets = new SocketLimits({
    maxConnections: limits.maxConnections,
    maxPerAddress: limits.maxConnectionsPerAddress,
    upgradeTimeoutMs: limits.headersTimeoutMs,
    log,
  });
  const tokenFile = opts.tokenFile ?? tokenFilePath();
  const tokens = opts.auth
    ? new LiveTokens({
        file: tokenFile,
        ...(opts.tokenStalenessMs !== undefined && { maxStalenessMs: opts.tokenStalenessMs }),
        onError: (message) => log.log('error', 'tokens.file_invalid', { file: tokenFile, error: message }),
        warn: (message) => log.log('warn', 'tokens.file_mode', { message }),
      })
    : null;
  const projectDir = fs.realpathSync(opts.projectDir);
  if (!fs.statSync(projectDir).isDirectory()) throw new TetherError('bad_project', `project ${opts.projectDir} is not a directory`, 400, 2);

  const events = new EventBus();
  const connections = new LiveConnections(tokens, opts.sweepMs ?? 250);
  // Tickets of a token that is deleted or expires go with it.
  const tickets = new TicketStore(opts.tickets);
  connections.onTokenGone((tokenId) => tickets.dropToken(tokenId));
  const lastUsed = new LastUsedTracker(tokenFile, log);
  // Web logins are restored from the data directory (only with auth: without it there are none).
  const webLogins = new WebLogins(
    tokens
      ? {
          file: opts.webLoginsFile ?? webLoginsFilePath(),
          isTokenActive: (id) => tokens.current().isActive(id),
          report: (level, event, fields) => log.log(level, event, fields),
        }
      : {},
  );
  // Pairing codes live in memory only; those of a token that is deleted or expires go with it.
  const pairing = tokens ? new PairingService({ tokens, codes: new PairingCodes(opts.pairing), logins: webLogins, tokenFile, now: opts.pairing?.now }) : null;
  connections.onTokenGone((tokenId) => pairing?.codes.dropToken(tokenId));
  const closers: (() => Promise<void> | void)[] = [];
  // One limiter for every way of presenting a credential (headers, cookies, the web login).
  const limiter = new FailureLimiter();
  const oauth = tokens ? new OAuthState({ tokenFile, clientsFile: clientsFilePath(dataDir()), tokens }) : null;
  // A deleted or expired grant takes its access tokens with it (the guard checks the grant anyway).
  if (oauth) connections.onTokenGone((tokenId) => oauth.access.dropGrant(tokenId));
  const ctx: ServerContext = {
    projectDir,
    reserved: reservedPaths(projectDir, [tokenFile, opts.settingsFile]),
    tokens,
    events,
    connections,
    settings: new SettingsStore(opts.settingsFile),
    log,
    audit,
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    webLogins,
    pairing,
    tickets,
    limiter,
    clientAddress,
    oauth,
    version: opts.version ?? '0.0.0',
    onClose: (fn) => closers.push(fn),
  };
  const scheme = opts.tls ? 'https' : 'http';
  const app = createApp({
    ctx,
    browser: {
      allowedHosts: allowedHostNames(opts.hostname, opts.allowedHosts ?? []),
      corsOrigins: new Set(opts.cors ?? []),
      scheme,
    },
    guard: {
      tokens,
      limiter,
      log,
      stores: { webLogins: ctx.webLogins, tickets: ctx.tickets },
      onAuthenticated: (record, address, now) => lastUsed.touch(record, address, now),
      clientAddress,
      connectionOf: clientSocket,
      authorizationOf: rawAuthorization,
      projectDir,
      ...(oauth && { oauthAccess: oauth.access }),
    },
    registrars: opts.registrars,
  });

  // WebSockets (terminals): the secret-bearing protocol offer is never echoed; only `tether` is.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024 * 1024,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  wss.on('connection', (_ws, req) => sockets.markWebSocket(req.socket));
  const httpOptions = {
    // Writes the security headers on every response (security-headers.ts).
    ServerResponse: SecureServerResponse as typeof NodeServerResponse,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
  };
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({
      fetch: app.fetch,
      websocket: { server: wss as unknown as WebSocketServerLike },
      port: opts.port,
      hostname: opts.hostname,
      ...(opts.tls
        ? {
            createServer: https.createServer,
            serverOptions: { ...httpOptions, ...TLS_OPTIONS, handshakeTimeout: limits.headersTimeoutMs, cert: opts.tls.cert, key: opts.tls.key },
          }
        : { serverOptions: httpOptions }),
    });
    sockets.attach(s as import('node:http').Server);
    s.once('error', (err: NodeJS.ErrnoException) => {
      const msg =
        err.code === 'EADDRINUSE'
          ? `port ${opts.port} on ${opts.hostname} is already in use; choose another with --port`
          : err.code === 'EADDRNOTAVAIL'
            ? `cannot bind to ${opts.hostname}: no such address on this machine`
            : `cannot listen on ${opts.hostname}:${opts.port}: ${err.message}`;
      reject(new TetherError('listen_failed', msg, 500, 1));
    });
    s.once('listening', () => resolve(s));
  });
  refuseNonWebSocketUpgrades(server, sockets);
  connections.start();
  // End what a SIGKILLed predecessor left running, then record our process sessions (src/proc/); last to close.
  closers.unshift(await recordProcesses(dataDir(), log));

  const { port, address } = server.address() as AddressInfo;
  const hostForUrl = opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname;
  const url = `${scheme}://${hostForUrl}:${port}`;
  // Also the audit log's start-up check: `serve` warns if this could not be written.
  const self = { tokenId: null, tokenName: null, address: SERVER_ADDRESS };
  audit.record('server.start', self, { project: projectDir, url, pid: process.pid });
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    address,
    sockets,
    ctx,
    // With a socket stand-in, the request looks to the guard as one from Node would: its socket
    // and its raw header list (the verify memo's key).
    fetch: (request, socket) => app.fetch(request, socket && { incoming: { socket, rawHeaders: [...request.headers].flat() } }),
    // Middleware is registered for every method ('ALL'); handlers name theirs.
    routes: app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method, path: r.path })),
    close() {
      closing ??= (async () => {
        connections.stop();
        connections.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          const http = server as import('node:http').Server;
          http.closeIdleConnections?.();
          // Give closing streams a moment to flush their last event, then drop what is left.
          setTimeout(() => http.closeAllConnections?.(), SHUTDOWN_GRACE_MS).unref();
        });
        for (const fn of closers.reverse()) await fn();
        log.stop();
        audit.record('server.stop', self, { pid: process.pid });
        audit.close();
        lastUsed.stop();
        await lastUsed.flush();
        await webLogins.persisted();
      })();
      return closing;
    },
  };
}

/**
 * Node hands every `Connection: upgrade` request to the 'upgrade' listeners; @hono/node-server's
 * listener ignores those that are not WebSocket upgrades, which would leave the socket hanging.
 * Answer them 400 here and pass WebSocket ones on (keeping a single listener, which
 * @hono/node-server relies on to write its own rejections).
 */
function refuseNonWebSocketUpgrades(server: ServerType, sockets: SocketLimits): void {
  const listeners = server.listeners('upgrade') as ((req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void)[];
  server.removeAllListeners('upgrade');
  server.on('upgrade', (req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    // Detached from Node's request timeouts now: close it unless it becomes a WebSocket in time.
    sockets.watchUpgrade(socket as import('node:net').Socket);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || listeners.length === 0) {
      socket.on('error', () => {});
      const body = JSON.stringify({ error: { code: 'bad_upgrade', message: 'only WebSocket upgrades are supported' } });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    for (const l of listeners) l(req, socket, head);
  });
}
