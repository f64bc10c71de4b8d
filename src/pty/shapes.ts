// The terminal API's data shapes, one definition each: the manager returns and accepts these types,
// the routes document and validate with these schemas (OpenAPI), and the client imports the types
// (type-only). The limits here are the ones validate.ts enforces on the manager's own callers.
import { z } from 'zod';

/** Terminal size bounds (columns and rows each). */
export const MIN_SIZE = 1;
export const MAX_SIZE = 1000;
export const MAX_TITLE = 256;
export const MAX_ARGS = 1024;
/** Longest command, argument or environment value. */
export const MAX_STRING = 32 * 1024;
const MAX_CWD = 4096;

export const PTY_STATUSES = ['running', 'exited'] as const;
export const PtyStatusSchema = z.enum(PTY_STATUSES);
export type PtyStatus = z.infer<typeof PtyStatusSchema>;

/** A terminal as the manager reports it. */
export const PtyInfoSchema = z.object({
  /** `pty_` + 16 hex chars (64 random bits): unguessable, URL-safe. */
  id: z.string().meta({ example: 'pty_0123456789abcdef' }),
  title: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string().meta({ description: 'Real path of the working directory (inside the project)' }),
  cols: z.number().int(),
  rows: z.number().int(),
  /** Pid of the terminal's process; also its process session and process group id (node-pty calls setsid). */
  pid: z.number().int(),
  status: PtyStatusSchema,
  exitCode: z.number().int().nullable().meta({ description: 'Exit status; null while running or when killed by a signal' }),
  signal: z.number().int().nullable().meta({ description: 'Signal number that killed the process; null otherwise' }),
  /** ISO 8601. */
  createdAt: z.string(),
  /** Never the secret; null e.g. with `--no-auth`. */
  ownerTokenId: z.string().nullable().meta({ description: 'Public id of the token that created it' }),
});
export type PtyInfo = z.infer<typeof PtyInfoSchema>;

const size = z.number().int().min(MIN_SIZE).max(MAX_SIZE);
const title = z.string().max(MAX_TITLE);

/** `POST /pty`: what a caller may choose about a new terminal. */
export const CreatePtySchema = z
  .object({
    /** Looked up on the child's PATH unless it contains `/`. */
    command: z.string().min(1).max(MAX_STRING).optional().meta({ description: 'Default: the configured shell, else $SHELL, else /bin/bash' }),
    args: z.array(z.string().max(MAX_STRING)).max(MAX_ARGS).optional(),
    cwd: z.string().max(MAX_CWD).optional().meta({
      description:
        "A directory inside the project (relative to it, or absolute), and inside a scoped token's scopes; default the project (for a scoped token: its first scope inside the project)",
    }),
    /**
     * Added to the server's environment without its TETHER_* variables (see proc/env.ts); TERM
     * defaults to xterm-256color. Any name is accepted: these are the caller's values.
     */
    env: z.record(z.string(), z.string().max(MAX_STRING)).optional().meta({ description: 'Added to (and overriding) the server environment' }),
    cols: size.optional(),
    rows: size.optional(),
    title: title.optional(),
  })
  .strict();
export type CreatePty = z.infer<typeof CreatePtySchema>;
/** The manager's input: the request plus who asked (set by the server, never by the caller). */
export type CreatePtyOptions = CreatePty & { ownerTokenId?: string | null };

/** `PUT /pty/:id`: resize and/or rename. */
export const UpdatePtySchema = z.object({ cols: size.optional(), rows: size.optional(), title: title.optional() }).strict();
export type UpdatePty = z.infer<typeof UpdatePtySchema>;

/** `POST /pty/:id/ticket`: a one-time credential for the terminal's WebSocket (auth/tickets.ts). */
export const PtyTicketSchema = z.object({
  ticket: z.string(),
  expiresAt: z.string().meta({ description: 'ISO 8601; 30 s after issue' }),
  url: z.string().meta({ description: 'Path to connect with, ticket included' }),
});
export type PtyTicket = z.infer<typeof PtyTicketSchema>;

/** Text frames the server sends on a terminal WebSocket (binary frames are output bytes). */
export const PtyServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit'), exitCode: z.number().int().nullable(), signal: z.number().int().nullable() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type PtyServerMessage = z.infer<typeof PtyServerMessageSchema>;

/** Text frames a client sends on a terminal WebSocket (binary frames are keystroke bytes). */
export const PtyClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('input'), data: z.string() }),
  z.object({ type: z.literal('resize'), cols: size, rows: size }),
]);
export type PtyClientMessage = z.infer<typeof PtyClientMessageSchema>;
