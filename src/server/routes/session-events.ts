// Session events on their way out: the compact form that goes to `GET /event`, and the caller's
// own event stream for `POST /session/:id/message` and `/shell` with `Accept: text/event-stream`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { TetherError, errorMessage } from '../../errors.js';
import type { RunEvents } from '../../session/runs.js';
import type { Message } from '../../session/types.js';
import type { ServerContext } from '../context.js';

/** Longest string an event on `GET /event` carries; longer ones are cut with a marker. */
export const EVENT_STRING_MAX = 16 * 1024;

/**
 * What `GET /event` gets of a session event. `/event` needs only `read`, while reading a session
 * needs `execute` too, and the design says the event stream never carries terminal output, so:
 * - a `shell` part goes without its `stdout`/`stderr` (`outputOmitted: true` and the lengths instead);
 * - a `run_command` tool result goes without its `output` (`outputOmitted: true`);
 * - any other string longer than EVENT_STRING_MAX is cut, with a marker saying where the rest is.
 * The full parts are in `GET /session/:id/message` and in the caller's own response or stream.
 */
export function compactEvent(properties: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...properties };
  if (isRecord(out.part)) out.part = compactPart(out.part);
  if (isRecord(out.message) && Array.isArray(out.message.parts)) {
    out.message = { ...out.message, parts: (out.message.parts as unknown[]).map((p) => (isRecord(p) ? compactPart(p) : p)) };
  }
  return clipStrings(out, 0) as Record<string, unknown>;
}

function compactPart(part: Record<string, unknown>): Record<string, unknown> {
  const data = part.data;
  if (!isRecord(data)) return part;
  if (part.type === 'shell') {
    const { stdout, stderr, ...rest } = data;
    return {
      ...part,
      data: { ...rest, outputOmitted: true, stdoutLength: strLength(stdout), stderrLength: strLength(stderr) },
    };
  }
  if (part.type === 'tool_result' && data.toolName === 'run_command' && isRecord(data.output) && 'output' in data.output) {
    const { output, ...rest } = data.output;
    return { ...part, data: { ...data, output: { ...rest, outputOmitted: true, outputLength: strLength(output) } } };
  }
  return part;
}

function clipStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') {
    if (value.length <= EVENT_STRING_MAX) return value;
    let end = EVENT_STRING_MAX;
    // Do not split a surrogate pair.
    const code = value.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
    return `${value.slice(0, end)}\n[event truncated: ${value.length - end} more characters; GET /session/{id}/message has the full text]`;
  }
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => clipStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = clipStrings(v, depth + 1);
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strLength(v: unknown): number {
  return typeof v === 'string' ? v.length : 0;
}

/** Whether the client asked for a streamed response. */
export function wantsEventStream(c: Context): boolean {
  return /\btext\/event-stream\b/i.test(c.req.header('accept') ?? '');
}

/**
 * The caller's event stream for one run. Each SSE event is named by its type, and its data is
 * `{"type", "properties"}` like on `GET /event`, but the parts are whole (nothing omitted: it is
 * the caller's own request). Events: `message.created`, `message.part`, `message.part.delta`,
 * `message.part.updated`, `message.completed`, then `done` with `{ message }` (the same final
 * message a JSON response holds), or `error` with `{ error: { code, message } }`. A comment line
 * every heartbeat interval.
 *
 * If the client goes away the run goes on (it is recorded and visible on `GET /event`; stop it
 * with `POST /session/:id/abort`), and the stream's event tap, heartbeat and connection slot are
 * released when the socket closes for any reason: the socket's own 'close' is watched, not only
 * Hono's abort callback, which never fires for a response that was never attached to the socket
 * (one queued behind another on a pipelined connection). If the caller's token is revoked or
 * expires, the stream gets an `error` event (code `token_revoked` / `token_expired`) and is
 * closed; the run itself is aborted separately (see session/runs.ts).
 */
export function streamRun(c: Context, ctx: ServerContext, tap: RunEvents, finished: Promise<Message>): Response {
  const tokenId = c.get('auth').tokenId;
  // The Node request and response, when served by @hono/node-server (absent for app.fetch).
  const { incoming, outgoing } = (c.env ?? {}) as { incoming?: IncomingMessage; outgoing?: ServerResponse };
  const socket = incoming?.socket;
  return streamSSE(c, async (stream) => {
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    // Writes in order, one at a time; a slow reader holds back only its own stream.
    let chain: Promise<void> = Promise.resolve();
    let closing = false;
    const send = (type: string, properties: Record<string, unknown>) => {
      if (closing) return;
      const message = { event: type, data: JSON.stringify({ type, properties }) };
      chain = chain.then(() => (stream.aborted || stream.closed ? undefined : stream.writeSSE(message))).catch(() => {});
    };
    /** Sends a last event and ends the stream; `deadlineMs` bounds the wait for a reader that does not read. */
    const finish = async (type: string, properties: Record<string, unknown>, deadlineMs?: number) => {
      send(type, properties);
      closing = true;
      if (deadlineMs === undefined) {
        await chain;
      } else {
        let timer: NodeJS.Timeout | undefined;
        const drained = await Promise.race([chain.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), deadlineMs)))]);
        clearTimeout(timer);
        // Cancel the response body: closing would wait for the stuck writes.
        if (!drained) stream.abort();
      }
      done();
    };

    tap.listen((e) => send(e.type, e.properties));
    const unregister = ctx.connections.add(tokenId, (reason) => {
      const code = reason === 'token expired' ? 'token_expired' : reason === 'token revoked' ? 'token_revoked' : 'server_shutdown';
      void finish('error', { error: { code, message: `stream closed: ${reason}` } }, 500);
    });
    const heartbeat = setInterval(() => {
      chain = chain.then(() => (stream.aborted || stream.closed ? undefined : stream.write(': heartbeat\n\n').then(() => {}))).catch(() => {});
    }, ctx.heartbeatMs);
    // The run continues without its audience.
    stream.onAbort(done);
    socket?.once('close', done);
    outgoing?.once('close', done);
    if (socket?.destroyed || outgoing?.destroyed) done();

    finished.then(
      (message) => finish('done', { message }),
      (err: unknown) => {
        const e =
          err instanceof TetherError ? { code: err.code, message: err.message } : { code: 'internal_error', message: `the run failed: ${errorMessage(err)}` };
        return finish('error', { error: e });
      },
    );

    await ended;
    socket?.off('close', done);
    outgoing?.off('close', done);
    clearInterval(heartbeat);
    unregister();
    tap.close();
  });
}
