// The resources beyond the core API, loaded only by `serve` (terminals, sessions, web UI).
import type { RouteRegistrar } from './app.js';

export async function productionRegistrars(): Promise<RouteRegistrar[]> {
  return [
    (await import('./routes/pty.js')).registerPty,
    (await import('./routes/session.js')).registerSession,
    (await import('./routes/web.js')).registerWeb,
  ];
}
