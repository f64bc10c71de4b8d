// Response shapes of the tether API, as the client sees them. Where the domain defines a shape
// (src/auth/, src/pty/, src/config/, src/fs/), it is imported from there type-only: nothing from the server runs here.

export type { Permission } from '../auth/permissions.js';
export type { Whoami, ShareCreate, ShareLink, PairingCodeRequest, PairingCodeCreated, PairingStatus, PairingState } from '../auth/shapes.js';
export type { PtyInfo as Pty, PtyStatus, CreatePty, UpdatePty, PtyTicket, PtyServerMessage, PtyClientMessage } from '../pty/shapes.js';

export type { PublicSettings as PublicConfig, SettingsPatch as ConfigPatch } from '../config/settings.js';
export type { SettingSource, SettingKey } from '../config/effective.js';
export type { FileListing as Listing, FileContent, FindFileResult, FindTextResult } from '../fs/shapes.js';

export interface ServerEvent {
  type: string;
  properties: Record<string, unknown>;
}

// Records the server returns as they are stored (type-only imports: nothing from the server runs).
// The session shapes are the domain's (src/session/types.ts), inferred from its zod schemas.
export type {
  AbortResult,
  Message,
  MessageCreate,
  MessageList,
  Part,
  SessionCreate,
  SessionDeleted,
  SessionInfo as Session,
  SessionList,
  SessionPatch,
  ShellCommand,
  ShellPartData,
} from '../session/types.js';

/** One event of a streamed run (`Accept: text/event-stream` on a message or shell request). */
export interface RunEvent {
  type: string;
  properties: Record<string, unknown>;
}
