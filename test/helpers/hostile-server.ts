// A fake tether server that lies: in-process node:http on 127.0.0.1 and a free port, answering
// whatever a test scripts, with terminal escape sequences in every string it sends. For testing
// what the clients print, follow and accept; it checks no credentials.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** Escape sequences a terminal would act on: OSC 52 (write the clipboard), OSC 0 (window title),
 * CSI 2J (clear the screen) in 7-bit and C1 form, a DCS, CR + BS (overwrite the line), bidi overrides. */
export const EVIL = '\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned\x1b\\\x1b[2J\x9b2J\x90q\x9c\rX\b\u202eevil\u2066x\u2069';
/** Shorter, for a WebSocket close reason (at most 123 bytes). */
export const EVIL_SHORT = '\x1b]0;pwned\x07\x1b[2J\x9b2J\u202eevil';
/** What a sanitised EVIL must still show, so a test knows the field was printed, not dropped. */
export const EVIL_VISIBLE = '^[]52;c;cHduZWQ=^G^[]0;pwned';

/** Raw control characters (other than \n, \t and the CLI's own \r\n), C1 and bidi formatting. */
// eslint-disable-next-line no-control-regex -- finding raw control characters is the point of this pattern
export const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
export const hasRawControl = (s: string) => RAW_CONTROL.test(s.replace(/\r\n/g, '\n'));

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless a string (sent as is). */
  body?: unknown;
  /** Server-sent events instead of a body: [event name, data object]. */
  sse?: [string, unknown][];
  /** A body that never ends: this text, written again and again until the client goes away. */
  endless?: string;
}

export type Route = (req: IncomingMessage, body: string) => Reply;

export interface HostileOptions {
  /** Keyed by `METHOD /path`; a key ending in `*` matches by prefix. Unmatched: 404. */
  routes?: Record<string, Route>;
  /** WebSocket upgrades: a Reply refuses the handshake with it; a function accepts and is given the socket. */
  upgrade?: Reply | ((ws: WebSocket, req: IncomingMessage) => void);
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HostileServer {
  url: string;
  port: number;
  requests: Recorded[];
  /** TCP connections accepted so far (requests and upgrades). */
  connections: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, r: Reply): void {
  if (r.endless !== undefined) {
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers });
    const chunk = r.endless.repeat(Math.ceil(16384 / r.endless.length));
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return;
  }
  if (r.sse) {
    res.writeHead(r.status ?? 200, { 'content-type': 'text/event-stream', ...r.headers });
    for (const [event, data] of r.sse) res.write(`event: ${event}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    res.end();
    return;
  }
  const text = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(r.status ?? 200, { 'content-type': typeof r.body === 'string' ? 'text/plain' : 'application/json', ...r.headers });
  res.end(text);
}

function match(routes: Record<string, Route>, method: string, path: string): Route | undefined {
  const key = `${method} ${path}`;
  if (routes[key]) return routes[key];
  for (const [k, route] of Object.entries(routes)) if (k.endsWith('*') && key.startsWith(k.slice(0, -1))) return route;
  return undefined;
}

export async function startHostileServer(opts: HostileOptions = {}): Promise<HostileServer> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'tether' });
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = new URL(req.url!, 'http://x').pathname;
      const route = match(opts.routes ?? {}, req.method!, path);
      send(res, route ? route(req, body) : { status: 404, body: { error: { code: 'not_found', message: `no route ${req.method} ${path}` } } });
    });
  });
  const s: HostileServer = { url: '', port: 0, requests, connections: 0, close: async () => {} };
  server.on('connection', (sock: Socket) => {
    s.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    requests.push({ method: 'UPGRADE', url: req.url!, headers: req.headers, body: '' });
    const u = opts.upgrade;
    if (typeof u === 'function') {
      wss.handleUpgrade(req, socket, head, (ws) => u(ws, req));
      return;
    }
    const r = u ?? { status: 404, body: { error: { code: 'not_found', message: 'no upgrades here' } } };
    const text = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    const headers = Object.entries({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), connection: 'close', ...r.headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${r.status ?? 404} Nope\r\n${headers}\r\n${text}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.port = (server.address() as AddressInfo).port;
  s.url = `http://127.0.0.1:${s.port}`;
  s.close = async () => {
    for (const c of wss.clients) c.terminate();
    for (const sock of sockets) sock.destroy();
    await new Promise((r) => server.close(r));
  };
  return s;
}

/** A redirect to `location` for every request and upgrade. */
export function redirectingRoutes(status: number, location: string): HostileOptions {
  const reply: Route = () => ({ status, headers: { location }, body: '' });
  return {
    routes: { 'GET *': reply, 'POST *': reply, 'PUT *': reply, 'PATCH *': reply, 'DELETE *': reply },
    upgrade: { status, headers: { location }, body: '' },
  };
}

// ----- payloads in the shapes a tether server sends, every string field hostile -----

export const whoami = (over: Record<string, unknown> = {}) => ({
  id: EVIL,
  name: EVIL,
  permissions: ['read', 'write', 'execute'],
  expiresAt: '2099-01-01T00:00:00.000Z',
  authenticatedBy: EVIL,
  ...over,
});

export const pty = (over: Record<string, unknown> = {}) => ({
  id: 'pty_0123456789abcdef',
  title: EVIL,
  command: EVIL,
  args: [EVIL],
  cwd: EVIL,
  cols: 80,
  rows: 24,
  pid: 1,
  status: 'running',
  exitCode: null,
  signal: null,
  createdAt: EVIL,
  ownerTokenId: EVIL,
  ...over,
});

export const session = (over: Record<string, unknown> = {}) => ({
  id: 'ses_hostile',
  title: EVIL,
  directory: EVIL,
  createdAt: EVIL,
  updatedAt: EVIL,
  busy: false,
  ...over,
});

export const part = (type: string, data: unknown, over: Record<string, unknown> = {}) => ({
  id: `prt_${type}`,
  sessionId: 'ses_hostile',
  messageId: 'msg_a',
  seq: 0,
  type,
  data,
  ...over,
});

export const message = (over: Record<string, unknown> = {}) => ({
  id: 'msg_a',
  sessionId: 'ses_hostile',
  seq: 1,
  role: 'assistant',
  tokenId: EVIL,
  status: 'error',
  createdAt: EVIL,
  completedAt: null,
  error: EVIL,
  parts: [],
  ...over,
});

export const shellData = (over: Record<string, unknown> = {}) => ({
  command: EVIL,
  cwd: EVIL,
  done: true,
  exitCode: null,
  signal: EVIL,
  stdout: `out:${EVIL}\n`,
  stderr: `err:${EVIL}\n`,
  stdoutTruncated: false,
  stderrTruncated: false,
  timedOut: false,
  aborted: false,
  durationMs: 5,
  ...over,
});

export const errorBody = (code = EVIL, msg = EVIL) => ({ error: { code, message: msg } });
