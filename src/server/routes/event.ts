// `GET /event`: the lifecycle event stream. Every stream holds one bus subscriber, one heartbeat
// timer and one slot in the live-connection table, so each of them is released exactly once, on
// whichever comes first: the socket closing (for any reason: the underlying socket's 'close', not
// only Hono's abort callback, which a response that never started would never fire), the response
// closing or erroring, the token being revoked or expiring (after a short grace to deliver
// `server.closing`), a reader too slow to keep up, or shutdown. Nothing is registered for
// requests that cannot carry a stream: HEAD gets the headers only, a WebSocket upgrade gets 400.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { TetherEvent } from '../../events.js';
import { eventVisible, shareEventVisible } from '../../auth/policy.js';
import { eventInScope } from '../../auth/scope.js';
import type { CloseReason } from '../connections.js';
import type { ServerContext } from '../context.js';
import { errorJson } from '../http-errors.js';
import { authErrors, errors } from './common.js';

/** Most concurrent event streams one token may hold; one more is 429 `too_many_streams`. */
export const MAX_EVENT_STREAMS_PER_TOKEN = 32;
/** Frames waiting for a reader that does not read; one more drops the stream. */
export const MAX_PENDING_FRAMES = 256;
/** How long a revoked stream may take to deliver `server.closing` before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

const route = createRoute({
  method: 'get',
  path: '/event',
  summary:
    'Server-sent events: lifecycle only (pty.*, session.*, message.*, config.updated), never terminal output; ' +
    'pty/session/message events only for tokens with execute, for a scoped token only those inside its scopes, ' +
    'and for a share link token only those of its own terminal or session. ' +
    'A comment line every heartbeat interval; closed within a second if the token is revoked or expires. ' +
    `At most ${MAX_EVENT_STREAMS_PER_TOKEN} concurrent streams per token (429 beyond) and one per connection (409); ` +
    'HEAD answers the headers only; a WebSocket upgrade is 400.',
  responses: {
    200: { description: 'An event stream; each `data:` line is {"type", "properties"}', content: { 'text/event-stream': { schema: z.string() } } },
    ...authErrors,
    400: errors[400],
    409: errors[409],
  },
});

/** Sockets that carry a live event stream: a pipelined second request on one could never be answered. */
const streaming = new WeakSet<Socket>();

// Type and properties only: an event's `place` is for filtering, never sent.
const frame = (e: TetherEvent) => `event: message\ndata: ${JSON.stringify({ type: e.type, properties: e.properties })}\n\n`;

export function registerEvent(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(route, (c) => {
    const auth = c.get('auth');
    if (/websocket/i.test(c.req.header('upgrade') ?? '')) {
      return errorJson(c, 400, 'not_websocket', 'GET /event is a server-sent event stream, not a WebSocket: request it without "Upgrade: websocket"');
    }
    if (c.req.method === 'HEAD') {
      // Hono answers HEAD by running GET and dropping the body, which would orphan a stream.
      c.header('Content-Type', 'text/event-stream');
      c.header('Cache-Control', 'no-cache');
      return c.body(null, 200);
    }
    // The Node request and response, when served by @hono/node-server (absent for app.fetch).
    const { incoming, outgoing } = (c.env ?? {}) as { incoming?: IncomingMessage; outgoing?: ServerResponse };
    const socket = incoming?.socket;
    if (socket && streaming.has(socket)) {
      return errorJson(c, 409, 'stream_open_on_connection', 'this connection already carries an event stream; open another GET /event on a new connection');
    }
    const onGone = { close: (_reason: CloseReason) => {} };
    const unregister = ctx.connections.addCapped(auth.tokenId, 'event', MAX_EVENT_STREAMS_PER_TOKEN, (reason) => onGone.close(reason));
    if (!unregister) {
      c.header('Retry-After', '1');
      return errorJson(
        c,
        429,
        'too_many_streams',
        `token "${auth.name}" already holds ${MAX_EVENT_STREAMS_PER_TOKEN} open event streams, the most one token may have; close one first`,
      );
    }
    if (socket) streaming.add(socket);

    return streamSSE(c, async (stream) => {
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      let released = false;
      let graceTimer: NodeJS.Timeout | undefined;
      // Writes go through one chain; `pending` bounds it, so a reader that stops reading costs
      // at most MAX_PENDING_FRAMES frames before it is dropped.
      let chain = Promise.resolve();
      let pending = 0;
      const send = (text: string): Promise<void> => {
        if (released) return chain;
        if (pending >= MAX_PENDING_FRAMES) {
          ctx.log.log('warn', 'event.slow_reader', { tokenId: auth.tokenId, pending });
          drop();
          return chain;
        }
        pending++;
        chain = chain.then(() => (stream.aborted ? undefined : stream.write(text).then(() => {}))).finally(() => pending--);
        return chain;
      };
      const unsubscribe = ctx.events.subscribe((e) => {
        // A share token sees only its own target's events; any other token, what its permissions
        // allow (policy), then only inside its scopes (place).
        const visible = auth.share ? shareEventVisible(auth.share, e) : eventVisible(e.type, auth.permissions) && eventInScope(auth.scopes, e);
        if (visible) void send(frame(e));
      });
      const heartbeat = setInterval(() => {
        if (pending === 0) void send(': heartbeat\n\n');
      }, ctx.heartbeatMs);

      const release = () => {
        if (released) return;
        released = true;
        clearInterval(heartbeat);
        clearTimeout(graceTimer);
        unsubscribe();
        unregister();
        socket?.off('close', release);
        outgoing?.off('close', release);
        if (socket) streaming.delete(socket);
        done();
      };
      // Cut the connection: what is queued can never be delivered.
      const drop = () => {
        stream.abort();
        outgoing?.destroy();
        release();
      };
      onGone.close = (reason) => {
        if (released) return;
        // Stop taking events now; say why, then close (or cut it if the reader does not take it).
        unsubscribe();
        clearInterval(heartbeat);
        void send(frame({ type: 'server.closing', properties: { reason } })).then(release);
        graceTimer = setTimeout(drop, CLOSE_GRACE_MS);
        graceTimer.unref();
      };

      stream.onAbort(release);
      socket?.once('close', release);
      outgoing?.once('close', release);
      if (socket?.destroyed || outgoing?.destroyed) release();
      void send(frame({ type: 'server.connected', properties: {} }));
      await finished;
    });
  });
}
