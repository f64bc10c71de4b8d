// Everything a route may use, assembled once by `startServer`, and the shape of a route registration.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AuditSink } from '../audit/log.js';
import type { EventBus } from '../events.js';
import type { FailureLimiter } from '../auth/limiter.js';
import type { LiveTokens } from '../auth/live-tokens.js';
import type { TicketStore } from '../auth/tickets.js';
import type { WebLogins } from '../auth/web-logins.js';
import type { PairingService } from '../auth/pairing-service.js';
import type { SettingsStore } from '../config/settings.js';
import type { ReservedPaths } from '../fs/reserved.js';
import type { LiveConnections } from './connections.js';
import type { Logger } from '../log.js';

export interface ServerContext {
  /** Real path of the project directory; file endpoints are confined to it. */
  projectDir: string;
  /** tether's own directories, which no file route, listing or search reaches. */
  reserved: ReservedPaths;
  /** null with --no-auth. */
  tokens: LiveTokens | null;
  events: EventBus;
  connections: LiveConnections;
  settings: SettingsStore;
  log: Logger;
  /** The audit trail: routes record security-relevant acts before they answer (see src/audit/). */
  audit: AuditSink;
  /** SSE heartbeat interval. */
  heartbeatMs: number;
  /** Web UI logins (cookie + key), a credential source. */
  webLogins: WebLogins;
  /** Pairing codes (`tether pair`) and their exchange for device tokens; null with --no-auth. */
  pairing: PairingService | null;
  /** One-time WebSocket tickets, a credential source. */
  tickets: TicketStore;
  /** The guard's failed-authentication limiter, shared with the web login. */
  limiter: FailureLimiter;
  /** The address a request came from, as the limiter and the logs see it. */
  clientAddress: (c: Context) => string;
  /** tether's version, for the OpenAPI document. */
  version: string;
  /** Resources that need cleanup on shutdown register here. */
  onClose: (fn: () => Promise<void> | void) => void;
}

/** Registers one resource's routes; every registration is listed in routes/index.ts. */
export type RouteRegistrar = (app: OpenAPIHono, ctx: ServerContext) => void;
