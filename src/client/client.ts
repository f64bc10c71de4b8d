// The typed client for every route: one place attaches credentials (`headers()`), results are
// typed, and errors carry the server's code and message. It imports nothing from src/server.
import { ApiError, ConnectionError } from './errors.js';
import type * as T from './types.js';

export interface ClientOptions {
  url: string;
  token: string | null;
  /** For tests and unusual setups (e.g. a custom CA); defaults to global fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  accept?: string;
  signal?: AbortSignal;
}

export class TetherClient {
  readonly url: string;
  private readonly token: string | null;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: ClientOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? fetch;
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

  /** Raw request: returns the Response when it is 2xx, else throws ApiError. */
  async raw(method: string, pathname: string, opts: RequestOptions = {}): Promise<Response> {
    const u = new URL(this.url + pathname);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const headers = this.headers({ accept: opts.accept ?? 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) });
    let res: Response;
    try {
      res = await this.fetchImpl(u, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ConnectionError(this.url, err);
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  async request<R>(method: string, pathname: string, opts: RequestOptions = {}): Promise<R> {
    const res = await this.raw(method, pathname, opts);
    if (res.status === 204) return undefined as R;
    return (await res.json()) as R;
  }

  // --- core ---
  health = () => this.request<{ ok: true }>('GET', '/health');
  whoami = () => this.request<T.Whoami>('GET', '/auth/whoami');
  getConfig = () => this.request<T.PublicConfig>('GET', '/config');
  patchConfig = (patch: T.ConfigPatch) => this.request<T.PublicConfig>('PATCH', '/config', { body: patch });
  listDir = (path = '.') => this.request<T.Listing>('GET', '/file', { query: { path } });
  readFile = (path: string) => this.request<T.FileContent>('GET', '/file/content', { query: { path } });
  findFile = (query: string, limit?: number) => this.request<T.FindFileResult>('GET', '/find/file', { query: { query, limit } });
  findText = (pattern: string, opts: { caseSensitive?: boolean; limit?: number } = {}) =>
    this.request<T.FindTextResult>('GET', '/find', { query: { pattern, caseSensitive: opts.caseSensitive, limit: opts.limit } });

  // --- terminals ---
  listPtys = () => this.request<T.Pty[]>('GET', '/pty');
  createPty = (body: T.CreatePty = {}) => this.request<T.Pty>('POST', '/pty', { body });
  getPty = (id: string) => this.request<T.Pty>('GET', `/pty/${encodeURIComponent(id)}`);
  updatePty = (id: string, body: { cols?: number; rows?: number; title?: string }) => this.request<T.Pty>('PUT', `/pty/${encodeURIComponent(id)}`, { body });
  deletePty = (id: string) => this.request<void>('DELETE', `/pty/${encodeURIComponent(id)}`);
  ptyTicket = (id: string) => this.request<{ ticket: string; expiresAt: string; url: string }>('POST', `/pty/${encodeURIComponent(id)}/ticket`);

  /** Opens the terminal WebSocket (Node: the `ws` package); credentials ride in the subprotocol offer.
   * The socket is returned paused: attach listeners, then call `resume()`. */
  async connectPty(id: string): Promise<import('ws').WebSocket> {
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(this.wsUrl(`/pty/${encodeURIComponent(id)}/connect`), this.wsProtocols());
    return new Promise((resolve, reject) => {
      // Paused: the scrollback can arrive with the handshake, before the caller has listeners.
      // The caller attaches its handlers, then calls ws.resume().
      ws.once('open', () => {
        ws.pause();
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => {
          let code = 'http_error';
          let message = `WebSocket refused: ${res.statusCode}`;
          try {
            const e = (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
            if (e?.code) code = e.code;
            if (e?.message) message = e.message;
          } catch {
            // no JSON body on a refused handshake
            code = res.statusCode === 401 ? 'unauthorized' : res.statusCode === 403 ? 'insufficient_permissions' : res.statusCode === 404 ? 'not_found' : code;
            if (res.statusCode === 403) message = 'lacks execute permission, needed for a WebSocket upgrade';
          }
          reject(new ApiError(res.statusCode ?? 0, code, message));
        });
      });
      ws.once('error', (err) => reject(new ConnectionError(this.url, err)));
    });
  }

  // --- sessions ---
  listSessions = async () => (await this.request<{ sessions: T.Session[] }>('GET', '/session')).sessions;
  createSession = (body: { title?: string; directory?: string } = {}) => this.request<T.Session>('POST', '/session', { body });
  getSession = (id: string) => this.request<T.Session>('GET', `/session/${encodeURIComponent(id)}`);
  updateSession = (id: string, body: { title?: string }) => this.request<T.Session>('PATCH', `/session/${encodeURIComponent(id)}`, { body });
  deleteSession = (id: string) => this.request<{ id: string; deleted: true }>('DELETE', `/session/${encodeURIComponent(id)}`);
  listMessages = async (id: string) => (await this.request<{ messages: T.Message[] }>('GET', `/session/${encodeURIComponent(id)}/message`)).messages;
  abortSession = (id: string) => this.request<{ aborted: boolean }>('POST', `/session/${encodeURIComponent(id)}/abort`);

  /** Sends a prompt; with `onEvent`, streams the run's events and resolves with the final message. */
  sendMessage(id: string, text: string, onEvent?: (e: T.RunEvent) => void, signal?: AbortSignal): Promise<T.Message> {
    return this.run(`/session/${encodeURIComponent(id)}/message`, { text }, onEvent, signal);
  }

  /** Runs a shell command in the session; same streaming contract as sendMessage. */
  shell(id: string, command: string, opts: { timeoutMs?: number } = {}, onEvent?: (e: T.RunEvent) => void, signal?: AbortSignal): Promise<T.Message> {
    return this.run(`/session/${encodeURIComponent(id)}/shell`, { command, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }, onEvent, signal);
  }

  private async run(pathname: string, body: unknown, onEvent?: (e: T.RunEvent) => void, signal?: AbortSignal): Promise<T.Message> {
    if (!onEvent) return this.request<T.Message>('POST', pathname, { body, signal });
    const res = await this.raw('POST', pathname, { body, accept: 'text/event-stream', signal });
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return (await res.json()) as T.Message;
    let final: T.Message | undefined;
    let failure: ApiError | undefined;
    await readSse(
      res,
      (data, event) => {
        const e = JSON.parse(data) as T.RunEvent;
        if (event === 'done') final = (e.properties as { message: T.Message }).message;
        else if (event === 'error') {
          const err = (e.properties as { error: { code: string; message: string } }).error;
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
    await readSse(res, (data) => onEvent(JSON.parse(data) as T.ServerEvent), signal);
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // not JSON: keep the status line
  }
  const retry = res.headers.get('retry-after');
  return new ApiError(res.status, code, message, retry ? Number(retry) : undefined);
}

/** Reads a text/event-stream body, calling `onData` with each event's data. */
export async function readSse(res: Response, onData: (data: string, event: string) => void, signal?: AbortSignal): Promise<void> {
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
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
