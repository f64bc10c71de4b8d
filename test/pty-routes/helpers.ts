// Helpers for the terminal route tests: a real server with the pty routes, a WebSocket client that
// records everything, and deadline-bound waits (never fixed sleeps).
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { ptyRoutes, type PtyRoutesOptions } from '../../src/server/routes/pty.js';
import type { PtyManager } from '../../src/pty/index.js';
import type { TicketStore, TicketStoreOptions } from '../../src/auth/tickets.js';

export { waitFor };

export interface PtyServer extends TestServer {
  manager: PtyManager;
  tickets: TicketStore;
  /** ws:// base URL. */
  wsUrl: string;
  /** A read+write+execute token. */
  admin: string;
  /** Create a terminal over HTTP and return its info. */
  createPty(body?: Record<string, unknown>, token?: string): Promise<any>;
}

export async function startPtyServer(
  opts: PtyRoutesOptions & { tickets?: TicketStoreOptions } = {},
  serverOpts: Parameters<typeof startTestServer>[0] = {},
): Promise<PtyServer> {
  let parts: { manager: PtyManager; tickets: TicketStore } | undefined;
  const base = await startTestServer({
    ...(opts.tickets ? { tickets: opts.tickets } : {}),
    ...serverOpts,
    registrars: [ptyRoutes({ ...opts, expose: (p) => (parts = p) })],
  });
  const { token: admin } = await base.token(['read', 'write', 'execute']);
  const s = base as PtyServer;
  s.manager = parts!.manager;
  s.tickets = parts!.tickets;
  s.wsUrl = base.url.replace(/^http/, 'ws');
  s.admin = admin;
  s.createPty = async (body = bash(), token = admin) => {
    const res = await base.fetch('/pty', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    if (res.status !== 201) throw new Error(`POST /pty -> ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return s;
}

/** An interactive bash with no user config and a fixed prompt. */
export function bash(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    command: 'bash',
    args: ['--norc', '--noprofile', '-i'],
    ...extra,
    env: { PS1: '$ ', PROMPT_COMMAND: '', HISTFILE: '/dev/null', ...(extra.env ?? {}) },
  };
}

export interface TermClient {
  ws: WebSocket;
  /** Every output byte so far. */
  bytes(): Buffer;
  text(): string;
  /** JSON control messages received. */
  controls: any[];
  closed: { code: number; reason: string } | null;
  closedAt: number | null;
  /** Keystrokes as a binary frame. */
  type(s: string): void;
  control(msg: unknown): void;
  waitText(substr: string | RegExp, timeout?: number): Promise<string>;
  waitClose(timeout?: number): Promise<{ code: number; reason: string }>;
  close(): void;
}

export interface ConnectOptions {
  token?: string;
  protocols?: string[];
  query?: string;
  headers?: Record<string, string>;
  /** Pause the TCP socket as soon as the upgrade succeeds, before any output is read (see throttle). */
  paused?: boolean;
}

/** Opens a WebSocket; resolves when open, rejects with `{ status }` if the handshake is refused. */
export function connect(url: string, opts: ConnectOptions = {}): Promise<TermClient> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const ws = new WebSocket(url + (opts.query ?? ''), opts.protocols ?? [], { headers });
  const chunks: Buffer[] = [];
  const c: TermClient = {
    ws,
    bytes: () => Buffer.concat(chunks),
    text: () => Buffer.concat(chunks).toString('utf8'),
    controls: [],
    closed: null,
    closedAt: null,
    type: (s) => ws.send(Buffer.from(s, 'utf8'), { binary: true }),
    control: (msg) => ws.send(JSON.stringify(msg)),
    waitText: (substr, timeout = 10_000) =>
      waitFor(() => (typeof substr === 'string' ? c.text().includes(substr) : substr.test(c.text())) && c.text(), {
        timeout,
        what: `output ${String(substr)}`,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; got ${JSON.stringify(c.text().slice(-300))}`);
      }),
    waitClose: (timeout = 10_000) => waitFor(() => c.closed, { timeout, what: 'the socket to close' }),
    close: () => ws.close(),
  };
  if (opts.paused) ws.once('upgrade', (res) => res.socket.pause());
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) chunks.push(Buffer.from(data));
    else c.controls.push(JSON.parse(data.toString('utf8')));
  });
  ws.on('close', (code, reason) => {
    c.closed = { code, reason: reason.toString('utf8') };
    c.closedAt = Date.now();
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers }));
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** The handshake status of a refused upgrade (throws if it was accepted). */
export async function refusedStatus(url: string, opts: ConnectOptions = {}): Promise<number> {
  try {
    const c = await connect(url, opts);
    c.ws.terminate();
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== undefined) return status;
    throw err;
  }
  throw new Error(`upgrade to ${url} was accepted`);
}

/** Waits for the shell prompt so typed input is not echoed before the shell is ready. */
export async function ready(t: TermClient): Promise<void> {
  await t.waitText('$ ');
}

/**
 * Makes `c` a slow link: its TCP socket is paused whenever it has read more than `rate()` bytes per
 * second allow (bursts of at most 50 ms). Returns a function that stops throttling.
 */
export function throttle(c: TermClient, rate: () => number): () => void {
  const sock = (c.ws as unknown as { _socket: Socket })._socket;
  let credit = 0;
  let last = performance.now();
  sock.on('data', (d: Buffer) => {
    credit -= d.length;
    if (credit < 0) sock.pause();
  });
  const timer = setInterval(() => {
    const now = performance.now();
    const r = rate();
    credit = Math.min(credit + ((now - last) / 1000) * r, r / 20);
    last = now;
    if (credit > 0 && sock.isPaused()) sock.resume();
  }, 10);
  return () => {
    clearInterval(timer);
    sock.resume();
  };
}
