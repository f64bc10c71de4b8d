// Test fixture: handlers that only record that they were reached, mounted on the interactive and
// ordinary paths, so guard tests can prove which requests reach a handler.
import type { OpenAPIHono } from '@hono/zod-openapi';

export interface ProbeHit {
  method: string;
  path: string;
  tokenId: string | null;
  permissions: string[];
}

export function probeRegistrar(hits: ProbeHit[]) {
  return (app: OpenAPIHono) => {
    const paths = ['/pty', '/pty/:id', '/pty/:id/connect', '/session', '/session/:id', '/session/:id/message', '/message', '/probe', '/probe/:id'];
    for (const p of paths) {
      app.on(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], p, (c) => {
        const a = c.get('auth');
        hits.push({ method: c.req.method, path: c.req.path, tokenId: a.tokenId, permissions: a.permissions });
        return c.json({ reached: true, path: c.req.path });
      });
    }
  };
}
