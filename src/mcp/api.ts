// MCP tools reach the project only through tether's own HTTP API, called in-process with the MCP
// request's own credential. So a tool gets exactly what the same call over HTTP would: the guard
// decides permission again, and confinement, reserved paths, scopes, size limits, ETags, audit lines
// and revocation all apply unchanged; the MCP layer adds no path of its own to anything.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { WEB_LOGIN_KEY_HEADER } from '../auth/credential-headers.js';
import { MCP_FORWARD } from '../auth/in-process.js';

/** The request headers that carry a credential (see credential-list.ts), forwarded as they came. */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', WEB_LOGIN_KEY_HEADER.toLowerCase()] as const;

/** The app's own fetch (Hono's `app.fetch`), with the node-server bindings as its env. */
export interface AppFetch {
  fetch(request: Request, env?: object): Response | Promise<Response>;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or null for an empty or non-JSON body. */
  body: unknown;
}

export interface ApiCallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiCaller {
  json(method: string, path: string, opts?: ApiCallOptions): Promise<ApiResult>;
  /** The raw response (for streamed answers). */
  raw(method: string, path: string, opts?: ApiCallOptions): Promise<Response>;
}

/** What a caller keeps from the MCP request it was made for. */
export interface CallerSeed {
  origin: string;
  host: string | undefined;
  credentials: Record<string, string>;
  incoming: IncomingMessage | undefined;
}

export function seedFrom(c: Context): CallerSeed {
  const credentials: Record<string, string> = {};
  for (const h of CREDENTIAL_HEADERS) {
    const v = c.req.header(h);
    if (v !== undefined) credentials[h] = v;
  }
  const env = (c.env ?? {}) as { incoming?: IncomingMessage };
  return { origin: new URL(c.req.url).origin, host: c.req.header('host'), credentials, incoming: env.incoming };
}

export function apiCaller(app: AppFetch, seed: CallerSeed): ApiCaller {
  const raw = async (method: string, path: string, opts: ApiCallOptions = {}): Promise<Response> => {
    const url = new URL(path, seed.origin);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers = new Headers({ ...seed.credentials, ...opts.headers });
    if (seed.host !== undefined) headers.set('host', seed.host);
    if (opts.body !== undefined) headers.set('content-type', 'application/json');
    const request = new Request(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    // Only the socket's identity (the client address, for limits and logs); never its response
    // object, so no route can write to the MCP client's connection.
    // Marked as the dispatcher's own call: an OAuth access token (bound to /mcp) reaches the API
    // routes only this way (src/auth/policy.ts audienceAllows).
    return app.fetch(request, { incoming: seed.incoming, [MCP_FORWARD]: true });
  };
  return {
    raw,
    async json(method, path, opts) {
      const res = await raw(method, path, opts);
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: parseJson(text) };
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The `{error: {code, message}}` an API refusal carries, as one line. */
export function apiErrorText(r: ApiResult): string {
  const e = (r.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (e && typeof e.message === 'string') return `${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message}`;
  return `the API answered ${r.status}`;
}
