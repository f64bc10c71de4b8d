// The typed client for every route: one place attaches credentials (`headers()`), results are
// typed and checked against src/client/schemas.ts, and errors carry the server's code and message.
// It imports nothing from src/server.
//
// Where the token may go: never along a redirect (every request is sent with `redirect: 'manual'`
// and a 3xx is an error naming its Location; the WebSocket never follows one either), and never
// over plain http to another host unless the caller opted in (`allowHttp`).
import type { z } from 'zod';
import { ApiError, ConnectionError, PlainHttpError, ProtocolError, RedirectError } from './errors.js';
import { fetchWithCa } from './https-ca.js';
import { isPlainHttpToNetwork } from './loopback.js';
import * as S from './schemas.js';
import type * as T from './types.js';

export interface ClientOptions {
  url: string;
  token: string | null;
  /** Allow plain http to a host other than this machine (the token crosses the network unencrypted). */
  allowHttp?: boolean;
  /** For tests and unusual setups; defaults to global fetch (or node:https with `ca`). */
  fetch?: typeof fetch;
  /** PEM CA certificates to trust instead of the system's for an https server (`--ca-file`). */
  ca?: Buffer;
  /** Lower bounds on what a server can make the client hold (defaults: 256 MiB each). */
  limits?: { jsonBytes?: number; sseEventChars?: number };
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  accept?: string;
  signal?: AbortSignal;
}

/** Bounds on what a server can make the client hold in memory. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;
const MAX_SSE_EVENT_CHARS = 256 * 1024 * 1024;

export class TetherClient {
  readonly url: string;
  private readonly token: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly ca: Buffer | undefined;
  private readonly maxJsonBytes: number;
  private readonly maxSseEventChars: number;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    if (isPlainHttpToNetwork(this.url) && !opts.allowHttp) throw new PlainHttpError(this.url);
    this.token = opts.token;
    this.ca = opts.ca;
    this.fetchImpl = opts.fetch ?? (opts.ca ? fetchWithCa(opts.ca) : fetch);
    this.maxJsonBytes = Math.min(opts.limits?.jsonBytes ?? MAX_JSON_BYTES, MAX_JSON_BYTES);
    this.maxSseEventChars = Math.min(opts.limits?.sseEventChars ?? MAX_SSE_EVENT_CHARS, MAX_SSE_EVENT_CHARS);
  }

  /** The only place credentials are attached to HTTP requests. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
  }

  /** WebSocket credentials: the token rides in a subprotocol offer, never in the URL. */
  wsProtocols(): string[] {
    return this.token ? ['tether', `tether.auth.${this.token}`] : ['tether'];
  }

  wsUrl(pathname: string): string {
    return this.url.replace(/^http/, 'ws') + pathname;
  }

  /** Raw request: returns the Response when it is 2xx, else throws ApiError (RedirectError for a 3xx). */
  async raw(method: string, pathname: string, opts: RequestOptions = {}): Promise<Response> {
    const u = new URL(this.url + pathname);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const headers = this.headers({ accept: opts.accept ?? 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) });
    let res: Response;
    try {
      res = await this.fetchImpl(u, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
        redirect: 'manual',
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ConnectionError(this.url, err);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => {});
      throw new RedirectError(this.url, res.status, res.headers.get('location'));
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  /** A request whose JSON answer must match `schema` (204: undefined). */
  async request<R>(method: string, pathname: string, schema: z.ZodType<R>, opts: RequestOptions = {}): Promise<R> {
    const res = await this.raw(method, pathname, opts);
    if (res.status === 204) return undefined as R;
    return this.parse(res, `${method} ${pathname}`, schema);
  }

  private async parse<R>(res: Response, what: string, schema: z.ZodType<R>): Promise<R> {
    const text = await readLimited(res, this.maxJsonBytes).catch((err: Error) => {
      throw err.name === 'AbortError' ? err : new ProtocolError(this.url, what, err.message);
    });
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new ProtocolError(this.url, what, `not JSON (content-type ${res.headers.get('content-type') ?? 'none'})`);
    }
    const r = schema.safeParse(data);
    if (!r.success) throw new ProtocolError(this.url, what, S.describeIssue(r.error));
    return r.data;
  }

  // --- core ---
  health = () => this.request('GET', '/health', S.Health);
  whoami = () => this.request('GET', '/auth/whoami', S.Whoami);
  createPairingCode = (body: T.PairingCodeRequest = {}) => this.request('POST', '/auth/pair/code', S.PairingCodeCreated, { body });
  pairingStatus = (id: string) => this.request('GET', `/auth/pair/code/${encodeURIComponent(id)}`, S.PairingStatus);
  cancelPairing = async (id: string): Promise<void> => void (await this.request('DELETE', `/auth/pair/code/${encodeURIComponent(id)}`, S.Anything));
  getConfig = () => this.request('GET', '/config', S.PublicConfig);
  patchConfig = (patch: T.ConfigPatch) => this.request('PATCH', '/config', S.PublicConfig, { body: patch });
  listDir = (path = '.') => this.request('GET', '/file', S.Listing, { query: { path } });
  readFile = (path: string) => this.request('GET', '/file/content', S.FileContent, { query: { path } });
  findFile = (query: string, limit?: number) => this.request('GET', '/find/file', S.FindFileResult, { query: { query, limit } });
  findText = (pattern: string, opts: { caseSensitive?: boolean; limit?: number } = {}) =>
    this.request('GET', '/find', S.FindTextResult, { query: { pattern, caseSensitive: opts.caseSensitive, limit: opts.limit } });

  // --- terminals ---
  listPtys = () => this.request('GET', '/pty', S.Pty.array());
  createPty = (body: T.CreatePty = {}) => this.request('POST', '/pty', S.Pty, { body });
  getPty = (id: string) => this.request('GET', `/pty/${encodeURIComponent(id)}`, S.Pty);
  updatePty = (id: string, body: T.UpdatePty) => this.request('PUT', `/pty/${encodeURIComponent(id)}`, S.Pty, { body });
  deletePty = async (id: string): Promise<void> => void (await this.request('DELETE', `/pty/${encodeURIComponent(id)}`, S.Anything));
  ptyTicket = (id: string) => this.request('POST', `/pty/${encodeURIComponent(id)}/ticket`, S.PtyTicket);
  /** A read-only share link to a terminal or session (shown once). */
  share = (type: 'pty' | 'session', id: string, body: T.ShareCreate = {}) =>
    this.request('POST', `/${type}/${encodeURIComponent(id)}/share`, S.ShareLink, { body });

  /** Opens the terminal WebSocket (Node: the `ws` package); credentials ride in the subprotocol offer.
   * The socket is returned paused: attach listeners, then call `resume()`. A redirect is refused
   * like any other (`ws` follows none unless told to; said here so it stays that way). With
   * `view`, the connection is view only: the server ignores whatever it sends. */
  async connectPty(id: string, opts: { view?: boolean } = {}): Promise<import('ws').WebSocket> {
    const { WebSocket } = await import('ws');
    const path = `/pty/${encodeURIComponent(id)}/connect${opts.view ? '?view=1' : ''}`;
    const ws = new WebSocket(this.wsUrl(path), this.wsProtocols(), {
      followRedirects: false,
      ...(this.ca ? { ca: this.ca } : {}),
    });
    return new Promise((resolve, reject) => {
      // Paused: the scrollback can arrive with the handshake, before the caller has listeners.
      // The caller attaches its handlers, then calls ws.resume().
      ws.once('open', () => {
        ws.pause();
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          const location = res.headers.location;
          return reject(new RedirectError(this.url, status, typeof location === 'string' ? location : null));
        }
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString('utf8');
          if (body.length > MAX_ERROR_BYTES) res.destroy();
        });
        const done = () => {
          const e = errorBody(body);
          if (e) return reject(new ApiError(status, e.code, e.message));
          // No JSON body on a refused handshake.
          const code = status === 401 ? 'unauthorized' : status === 403 ? 'insufficient_permissions' : status === 404 ? 'not_found' : 'http_error';
          const message = status === 403 ? 'lacks execute permission, needed for a WebSocket upgrade' : `WebSocket refused: ${status}`;
          reject(new ApiError(status, code, message));
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      });
      ws.once('error', (err) => reject(new ConnectionError(this.url, err)));
    });
  }

  // --- sessions ---
  listSessions = async () => (await this.request('GET', '/session', S.SessionList)).sessions;
  createSession = (body: T.SessionCreate = {}) => this.request('POST', '/session', S.Session, { body });
  getSession = (id: string) => this.request('GET', `/session/${encodeURIComponent(id)}`, S.Session);
  updateSession = (id: string, body: T.SessionPatch) => this.request('PATCH', `/session/${encodeURIComponent(id)}`, S.Session, { body });
  deleteSession = (id: string) => this.request('DELETE', `/session/${encodeURIComponent(id)}`, S.Deleted);
  listMessages = async (id: string) => (await this.request('GET', `/session/${encodeURIComponent(id)}/message`, S.MessageList)).messages;
  abortSession = (id: string) => this.request('POST', `/session/${encodeURIComponent(id)}/abort`, S.Aborted);

  /** Sends a prompt; with `onEvent`, streams the run's events and resolves with the final message. */
  sendMessage(id: string, text: string, onEvent?: (e: T.RunEvent) => void, signal?: AbortSignal): Promise<T.Message> {
    return this.run(`/session/${encodeURIComponent(id)}/message`, { text } satisfies T.MessageCreate, onEvent, signal);
  }

  /** Runs a shell command in the session; same streaming contract as sendMessage. */
  shell(
    id: string,
    command: string,
    opts: Pick<T.ShellCommand, 'timeoutMs'> = {},
    onEvent?: (e: T.RunEvent) => void,
    signal?: AbortSignal,
  ): Promise<T.Message> {
    const body: T.ShellCommand = { command, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) };
    return this.run(`/session/${encodeURIComponent(id)}/shell`, body, onEvent, signal);
  }

  private async run(pathname: string, body: unknown, onEvent?: (e: T.RunEvent) => void, signal?: AbortSignal): Promise<T.Message> {
    if (!onEvent) return this.request('POST', pathname, S.Message, { body, signal });
    const what = `POST ${pathname}`;
    const res = await this.raw('POST', pathname, { body, accept: 'text/event-stream', signal });
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return this.parse(res, what, S.Message);
    let final: T.Message | undefined;
    let failure: ApiError | undefined;
    await this.readEvents(
      res,
      what,
      (e, event) => {
        const p = e.properties;
        if (event === 'done') final = (p as { message: T.Message }).message;
        else if (event === 'error') {
          const err = (p as { error: { code: string; message: string } }).error;
          failure = new ApiError(500, err.code, err.message);
        } else onEvent(e);
      },
      signal,
    );
    if (final) return final;
    throw failure ?? new ApiError(502, 'stream_ended', 'the server ended the stream without a result');
  }

  /** Subscribes to `GET /event`; resolves when the stream ends (server close or abort). */
  async events(onEvent: (e: T.ServerEvent) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.raw('GET', '/event', { accept: 'text/event-stream', signal });
    await this.readEvents(res, 'GET /event', (e) => onEvent(e), signal);
  }

  /** Reads an event stream whose data are `{type, properties}` events, checking each one. */
  private async readEvents(res: Response, what: string, onEvent: (e: T.RunEvent, event: string) => void, signal?: AbortSignal): Promise<void> {
    try {
      await readSse(
        res,
        (data, event) => {
          let json: unknown;
          try {
            json = JSON.parse(data);
          } catch {
            throw new ProtocolError(this.url, what, `event "${event.slice(0, 50)}" is not JSON`);
          }
          const e = S.AnyEvent.safeParse(json);
          if (!e.success) throw new ProtocolError(this.url, what, `event "${event.slice(0, 50)}": ${S.describeIssue(e.error)}`);
          const known = S.RunEventProperties[event === 'done' || event === 'error' ? event : e.data.type];
          const p = known ? known.safeParse(e.data.properties) : undefined;
          if (p && !p.success) throw new ProtocolError(this.url, what, `event "${e.data.type.slice(0, 50)}": ${S.describeIssue(p.error)}`);
          onEvent({ type: e.data.type, properties: (p?.data as Record<string, unknown> | undefined) ?? e.data.properties }, event);
        },
        signal,
        this.maxSseEventChars,
      );
    } catch (err) {
      if (err instanceof ProtocolError || (err as Error).name === 'AbortError') throw err;
      if (err instanceof SseTooLarge) throw new ProtocolError(this.url, what, err.message);
      throw new ProtocolError(this.url, what, `the stream broke off: ${(err as Error).message ?? String(err)}`);
    }
  }
}

/** The `{ error: { code, message } }` of a refusal, if the body is one. */
function errorBody(text: string): { code: string; message: string } | null {
  try {
    const r = S.ErrorBody.safeParse(JSON.parse(text));
    return r.success ? r.data.error : null;
  } catch {
    return null;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await readLimited(res, MAX_ERROR_BYTES).catch(() => '');
  const e = errorBody(text);
  const retry = res.headers.get('retry-after');
  return new ApiError(
    res.status,
    e?.code ?? 'http_error',
    e?.message ?? `${res.status} ${res.statusText}`,
    retry && /^\d{1,6}$/.test(retry) ? Number(retry) : undefined,
  );
}

/** The body as text, or an error once it exceeds `limit` bytes (the rest is not read). */
async function readLimited(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new Error(`the body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

class SseTooLarge extends Error {}

/** Reads a text/event-stream body, calling `onData` with each event's data. An event longer than
 * `maxChars` is an error rather than an ever-growing buffer. */
export async function readSse(
  res: Response,
  onData: (data: string, event: string) => void,
  signal?: AbortSignal,
  maxChars = MAX_SSE_EVENT_CHARS,
): Promise<void> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((err) => {
        if (signal?.aborted) return { value: undefined, done: true as const };
        throw err;
      });
      if (done) break;
      buf += value;
      let idx;
      while ((idx = buf.search(/\r?\n\r?\n/)) !== -1) {
        const block = buf.slice(0, idx);
        buf = buf.slice(idx + (buf[idx] === '\r' ? 4 : 2));
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith(':')) continue;
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length) onData(data.join('\n'), event);
      }
      if (buf.length > maxChars) {
        await reader.cancel().catch(() => {});
        throw new SseTooLarge(`an event is longer than ${maxChars} characters`);
      }
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
