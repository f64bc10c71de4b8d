// The escalation matrix's client side: one HTTP request or WebSocket upgrade attempt, recorded in
// full (status line, every header, the body) so that the canary scan sees everything a caller saw,
// and long-lived event streams that record every byte. Every wait has a deadline.
import http from 'node:http';
import WebSocket from 'ws';

export interface Outcome {
  status: number;
  /** Status, headers and body as one text, for the canary scan. */
  text: string;
  body: string;
  /** The WebSocket handshake succeeded. */
  upgraded: boolean;
  /** The response did not finish within the deadline (event streams end after their first event). */
  timedOut: boolean;
  error?: string;
}

const render = (status: number, headers: http.IncomingHttpHeaders, body: string) =>
  `${status}\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join('\n')}\n\n${body}`;

/**
 * Reads a response body to its end, or for an event stream up to its first complete event (a
 * stream never ends by itself), or until the deadline; then drops the connection.
 */
function readBody(res: http.IncomingMessage, timeoutMs: number): Promise<{ body: string; timedOut: boolean }> {
  const stream = /text\/event-stream/i.test(String(res.headers['content-type'] ?? ''));
  return new Promise((resolve) => {
    let body = '';
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res.destroy();
      resolve({ body, timedOut });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      body += chunk;
      if (stream && /\ndata:[^\n]*\n\n/.test(`\n${body}`)) finish(false);
    });
    res.on('end', () => finish(false));
    res.on('error', () => finish(false));
    res.on('close', () => finish(false));
  });
}

export async function httpAttempt(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs = 10_000,
): Promise<Outcome> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        agent: false,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        void readBody(res, timeoutMs).then(({ body: text, timedOut }) =>
          resolve({ status: res.statusCode ?? 0, text: render(res.statusCode ?? 0, res.headers, text), body: text, upgraded: false, timedOut }),
        );
      },
    );
    req.on('error', (err) => resolve({ status: 0, text: '', body: '', upgraded: false, timedOut: false, error: err.message }));
    req.end(body);
  });
}

/**
 * A WebSocket handshake. A refused one records the refusal response; an accepted one records what
 * the server sends until its first message, the close, or the deadline.
 */
export async function wsAttempt(base: string, path: string, headers: Record<string, string>, protocols: string[], timeoutMs = 5_000): Promise<Outcome> {
  const ws = new WebSocket(base.replace(/^http/, 'ws') + path, protocols, { headers, handshakeTimeout: timeoutMs });
  return new Promise((resolve) => {
    let settled = false;
    let opened = false;
    let text = '';
    const done = (o: Omit<Outcome, 'text'> & { text?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      resolve({ ...o, text: o.text ?? text });
    };
    const ended = (timedOut: boolean) => done({ status: opened ? 101 : 0, body: text, upgraded: opened, timedOut });
    const timer = setTimeout(() => ended(true), timeoutMs);
    ws.on('upgrade', (res) => {
      opened = true;
      text = render(101, res.headers, '');
    });
    ws.on('message', (data: Buffer) => {
      text += Buffer.from(data).toString('utf8');
      ended(false);
    });
    ws.on('close', () => ended(false));
    ws.on('unexpected-response', (_req, res) => {
      void readBody(res, timeoutMs).then(({ body, timedOut }) =>
        done({ status: res.statusCode ?? 0, text: render(res.statusCode ?? 0, res.headers, body), body, upgraded: false, timedOut }),
      );
    });
    ws.on('error', (err) => done({ status: 0, body: '', upgraded: false, timedOut: false, error: err.message }));
  });
}

export interface RecordedStream {
  status(): number;
  /** Status, headers and every byte received so far. */
  text(): string;
  /** Resolves once `pred` holds for the text received, or rejects at the deadline. */
  waitFor(pred: (text: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A GET that stays open (an event stream) and records everything. */
export function openStream(base: string, path: string, headers: Record<string, string>): RecordedStream {
  const u = new URL(base);
  let status = 0;
  let head = '';
  let body = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  const req = http.get({ host: u.hostname, port: u.port, path, headers, agent: false }, (res) => {
    status = res.statusCode ?? 0;
    head = render(status, res.headers, '');
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      body += c;
      poke();
    });
    res.on('end', poke);
    poke();
  });
  req.on('error', () => poke());
  const text = () => head + body;
  return {
    status: () => status,
    text,
    waitFor: (pred, what, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pred(text())) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(text().slice(-300))}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    close: () => req.destroy(),
  };
}
