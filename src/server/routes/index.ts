// Every route registration of the server, in one list, in registration order.
//
// The core routes are always registered. The production routes pull in node-pty, SQLite and the
// model SDK, so they are imported only when productionRegistrars() runs: `serve` calls it (and
// tests that want the whole server); `tether auth token ...` and the core-only test servers never
// load them. A new resource is added here, and gets an entry in the policy table (auth/policy.ts).
import type { RouteRegistrar } from '../context.js';
import { registerAudit } from './audit.js';
import { registerAuth } from './auth.js';
import { registerConfig } from './config.js';
import { registerDoc } from './doc.js';
import { registerEvent } from './event.js';
import { registerFile } from './file.js';
import { registerFind } from './find.js';
import { registerHealth } from './health.js';
import { registerPair } from './pair.js';
import { registerWebLogin } from './web-login.js';

/** Registered by every server, first, in this order. */
export const CORE_REGISTRARS: readonly RouteRegistrar[] = [
  registerHealth,
  registerAuth,
  registerConfig,
  registerFile,
  registerFind,
  registerEvent,
  registerWebLogin,
  registerPair,
  registerAudit,
  registerDoc,
];

/** Terminals, agent sessions and the web UI, loaded on demand (after the core routes). */
export async function productionRegistrars(): Promise<RouteRegistrar[]> {
  return [
    (await import('./pty.js')).registerPty,
    (await import('./session.js')).registerSession,
    (await import('./mcp.js')).registerMcp,
    (await import('./web.js')).registerWeb,
  ];
}
