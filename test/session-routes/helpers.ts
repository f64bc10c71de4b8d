// A real listening tether server with the session routes, on temp XDG dirs that survive a restart,
// plus a small SSE client (fetch + a line parser) for `GET /event` and streamed responses.
import type { Permission } from '../../src/auth/permissions.js';
import type { RunningServer } from '../../src/server/server.js';
import { sessionRoutes, type SessionRoutesOptions } from '../../src/server/routes/session.js';
import type { TempEnv } from '../helpers/env.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

export interface Harness {
  env: TempEnv;
  project: string;
  readonly server: RunningServer;
  readonly url: string;
  logs: unknown[];
  token(permissions?: Permission[]): Promise<{ token: string; id: string }>;
  /** JSON request with a Bearer token; returns status and parsed body (or text). */
  call(
    method: string,
    pathname: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; text: string }>;
  /** Closes the server and starts a new one on the same dirs (same database, tokens, settings). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(routeOptions: SessionRoutesOptions = {}): Promise<Harness> {
  const s = await startTestServer({ sweepMs: 100, registrars: [sessionRoutes({ modelRetries: 0, ...routeOptions })] });
  const h: Harness = {
    env: s.env,
    project: s.project,
    get server() {
      return s.server;
    },
    get url() {
      return s.url;
    },
    logs: s.logs,
    token: (permissions) => s.token(permissions),
    async call(method, pathname, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      }
      const res = await fetch(s.url + pathname, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, text };
    },
    restart: () => s.restart(),
    close: () => s.close(),
  };
  return h;
}

export interface SseEvent {
  event: string;
  data: any;
  raw: string;
}

export interface SseStream {
  status: number;
  contentType: string | null;
  events: SseEvent[];
  /** Every byte received, for "never contains" checks. */
  text(): string;
  /** Resolves when the server ends the stream (or the connection breaks). */
  ended: Promise<void>;
  isEnded(): boolean;
  waitFor(pred: (e: SseEvent) => boolean, what: string, timeout?: number): Promise<SseEvent>;
  /** Client-side disconnect. */
  close(): void;
}

/** Opens an SSE response with fetch and parses it as it arrives. Non-2xx answers are returned unparsed. */
export async function openSse(url: string, init: { method?: string; token: string; body?: unknown }): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${init.token}`, accept: 'text/event-stream' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  let all = '';
  let ended = false;
  const decoder = new TextDecoder();
  const endedPromise = (async () => {
    if (!res.body) return;
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const s = decoder.decode(chunk, { stream: true });
        all += s;
        buf += s;
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0) continue; // comments (heartbeats)
          const raw = data.join('\n');
          let parsed: unknown = raw;
          try {
            parsed = JSON.parse(raw);
          } catch {
            // keep raw
          }
          events.push({ event, data: parsed, raw });
        }
      }
    } catch {
      // aborted by us, or the connection broke
    } finally {
      ended = true;
    }
  })();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    text: () => all,
    ended: endedPromise,
    isEnded: () => ended,
    waitFor: (pred, what, timeout = 10_000) => waitFor(() => events.find(pred), { what, timeout }),
    close: () => controller.abort(),
  };
}

/** `GET /event`, waiting until the server says it is connected. */
export async function openEvents(h: Harness, token: string): Promise<SseStream> {
  const s = await openSse(`${h.url}/event`, { token });
  await s.waitFor((e) => e.data?.type === 'server.connected', 'server.connected');
  return s;
}

export { waitFor };

/** Configures the provider through the real `PATCH /config`. */
export async function setProvider(h: Harness, token: string, modelUrl: string, apiKey = 'sk-test-SECRET-key-123456'): Promise<void> {
  const r = await h.call('PATCH', '/config', { token, body: { modelUrl, model: 'test-model', apiKey } });
  if (r.status !== 200) throw new Error(`PATCH /config: ${r.status} ${r.text}`);
}

export async function createSession(h: Harness, token: string, body: Record<string, unknown> = {}): Promise<any> {
  const r = await h.call('POST', '/session', { token, body });
  if (r.status !== 201) throw new Error(`POST /session: ${r.status} ${r.text}`);
  return r.body;
}

export { isAlive } from '../helpers/proc.js';
