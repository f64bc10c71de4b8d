// The audit trail's vocabulary: every kind of event, what each line carries, and who did it.
// Pure, no I/O. The writer (log.ts) and every reader (reader.ts, `tether audit`, GET /audit) share it.
//
// A line is one JSON object: `time`, `kind`, `tokenId`, `tokenName`, `address` (the actor: the
// token used and where the request came from, "cli" for the command line), then the kind's own
// fields below. Never a token, a key, a setting's value or file content.

/** Who did it. `tokenId` null: no token (an authentication failure, --no-auth, the CLI's own acts). */
export interface AuditActor {
  tokenId: string | null;
  tokenName: string | null;
  /** The client's address; "cli" for the command line, "server" for the server's own acts. */
  address: string;
}

/** The fields of each kind, on top of the actor's. */
export interface AuditDetails {
  /** The server started (also the audit log's start-up check). */
  'server.start': { project: string; url: string; pid: number };
  'server.stop': { pid: number };
  /** A token was created (CLI, `serve`'s first token). The actor is the new token. */
  'token.create': { permissions: string[]; expiresAt: string | null; scopes?: string[]; firstRun?: boolean };
  /** A token was deleted (CLI). The actor is the deleted token. */
  'token.delete': Record<string, never>;
  /** A pairing code was created. The actor is the token that asked; these are what the code grants. */
  'pair.create': { pairingId: string; device: string | null; permissions: string[]; expiresAt: string | null; scopes?: string[]; codeExpiresAt: string };
  /** A pairing code was used. The actor is the device's new token, from the device's address. */
  'pair.use': { pairingId: string; createdBy: string | null; permissions: string[]; expiresAt: string | null; scopes?: string[] };
  /** A share link was created. The actor is the token that created it. */
  'share.create': { shareTokenId: string; path: string; expiresAt: string | null };
  'web.login': Record<string, never>;
  'web.logout': Record<string, never>;
  /** A refused credential (collapsed per network per minute, see server/failure-log.ts). */
  'auth.failure': { reason: string; via: string; method: string; path: string; throttled?: boolean };
  /** Failures of one network past the per-minute allowance, counted. */
  'auth.failure.summary': { failures: number; notLoggedIndividually: number; since: string; windowSeconds: number; distinctKeys?: number };
  'pty.start': { ptyId: string; command: string; args: string[]; cwd: string };
  /** The terminal's program ended. The actor is the token that started it. */
  'pty.exit': { ptyId: string; command: string; exitCode: number | null; signal: number | null };
  /** A shell command (POST /session/:id/shell) is about to run. */
  'shell.start': { sessionId: string; command: string; cwd: string };
  /** ... and ended. */
  'shell.exit': {
    sessionId: string;
    command: string;
    exitCode: number | null;
    signal: string | null;
    durationMs: number | null;
    timedOut?: boolean;
    aborted?: boolean;
    error?: string;
  };
  /** The agent is about to run a tool: its command, or the path it reads or writes. */
  'agent.tool': { sessionId: string; tool: string; directory: string; command?: string; path?: string };
  'file.write': { path: string; bytes?: number; created?: boolean };
  'file.delete': { path: string };
  /** Settings changed: the keys only, never a value (one may be the API key). */
  'config.update': { keys: string[] };
  /** Lines this log could not write (disk full, read-only...), written once it can again. */
  'audit.lost': { lines: number; since: string; error: string };
}

export type AuditKind = keyof AuditDetails;

/** Every kind, in the order the README lists them. */
export const AUDIT_KINDS: readonly AuditKind[] = [
  'server.start',
  'server.stop',
  'token.create',
  'token.delete',
  'pair.create',
  'pair.use',
  'share.create',
  'web.login',
  'web.logout',
  'auth.failure',
  'auth.failure.summary',
  'pty.start',
  'pty.exit',
  'shell.start',
  'shell.exit',
  'agent.tool',
  'file.write',
  'file.delete',
  'config.update',
  'audit.lost',
];

/** `--kind pty` means every `pty.*` kind. */
export const AUDIT_GROUPS: readonly string[] = [...new Set(AUDIT_KINDS.map((k) => k.split('.')[0]!))];

/** One parsed line, as readers see it. */
export interface AuditEvent extends AuditActor {
  time: string;
  kind: string;
  [field: string]: unknown;
}

/** The actor's and the line's own fields: a kind's details can never overwrite them. */
export const BASE_FIELDS: readonly string[] = ['time', 'kind', 'tokenId', 'tokenName', 'address'];

export const CLI_ADDRESS = 'cli';
export const SERVER_ADDRESS = 'server';
