import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { TetherEvent } from '../../events.js';
import { eventVisible } from '../../auth/policy.js';
import type { ServerContext } from '../context.js';
import { authErrors } from './common.js';

const route = createRoute({
  method: 'get',
  path: '/event',
  summary:
    'Server-sent events: lifecycle only (pty.*, session.*, message.*, config.updated), never terminal output; ' +
    'pty/session/message events only for tokens with execute. ' +
    'A comment line every heartbeat interval; closed within a second if the token is revoked or expires.',
  responses: {
    200: { description: 'An event stream; each `data:` line is {"type", "properties"}', content: { 'text/event-stream': { schema: z.string() } } },
    ...authErrors,
  },
});

export function registerEvent(app: OpenAPIHono, ctx: ServerContext): void {
  app.openapi(route, (c) => {
    const auth = c.get('auth');
    return streamSSE(c, async (stream) => {
      let done!: () => void;
      const finished = new Promise<void>((r) => (done = r));
      const queue: TetherEvent[] = [];
      let writing = false;
      const flush = async () => {
        if (writing) return;
        writing = true;
        while (queue.length > 0 && !stream.aborted && !stream.closed) {
          const e = queue.shift()!;
          await stream.writeSSE({ event: 'message', data: JSON.stringify(e) });
        }
        writing = false;
      };
      const unsubscribe = ctx.events.subscribe((e) => {
        if (!eventVisible(e.type, auth.permissions)) return;
        queue.push(e);
        void flush();
      });
      const unregister = ctx.connections.add(auth.tokenId, (reason) => {
        queue.push({ type: 'server.closing', properties: { reason } });
        void flush().then(() => stream.close()).finally(done);
      });
      const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n').catch(() => {}), ctx.heartbeatMs);
      stream.onAbort(() => done());
      queue.push({ type: 'server.connected', properties: {} });
      await flush();
      await finished;
      clearInterval(heartbeat);
      unsubscribe();
      unregister();
    });
  });
}
