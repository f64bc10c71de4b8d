// Everything a route may use, assembled once by `startServer`.
import type { EventBus } from '../events.js';
import type { LiveTokens } from '../auth/live.js';
import type { TicketStore } from '../auth/tickets.js';
import type { WebLogins } from '../auth/web-logins.js';
import type { SettingsStore } from '../config/settings.js';
import type { ReservedPaths } from '../fs/reserved.js';
import type { LiveConnections } from './connections.js';
import type { Logger } from './log.js';

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
  /** SSE heartbeat interval. */
  heartbeatMs: number;
  /** Web UI logins (cookie + key), a credential source. */
  webLogins: WebLogins;
  /** One-time WebSocket tickets, a credential source. */
  tickets: TicketStore;
  /** Resources that need cleanup on shutdown register here. */
  onClose: (fn: () => Promise<void> | void) => void;
}

