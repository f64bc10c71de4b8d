// The session domain's shapes, each defined once as a zod schema with its type inferred from it:
// the records the store returns (camelCase, ISO 8601 times), what the API returns and accepts. The
// routes reuse them (adding only OpenAPI names), the typed client imports the types only.
// Plain zod: nothing here knows about HTTP or OpenAPI.
import { z } from 'zod';
import { DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from './shell.js';

export const MESSAGE_ROLES = ['user', 'assistant', 'shell'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const MESSAGE_STATUSES = ['pending', 'running', 'completed', 'error', 'aborted'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses a message ends in; a message in one of these takes no more parts. */
export const FINAL_STATUSES = ['completed', 'error', 'aborted'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/**
 * Known part types. The column is free text (checked against a name pattern, not this list) so the
 * agent can add a type without a schema migration.
 */
export type PartType = 'text' | 'reasoning' | 'tool_call' | 'tool_result' | 'shell' | 'error' | (string & {});

export const PROMPT_MAX_CHARS = 200_000;
export const COMMAND_MAX_CHARS = 64 * 1024;
export const TITLE_MAX_CHARS = 200;
export const DIRECTORY_MAX_CHARS = 4096;

// --- records ---

export const SessionSchema = z.object({
  id: z.string(),
  title: z.string(),
  directory: z.string().describe('Absolute real path of the working directory (inside the project)'),
  createdAt: z.string(),
  /** Bumped by a title change and by every message created or finished in the session. */
  updatedAt: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

/** A session as the API shows it: the record, and whether a run holds it now. */
export const SessionInfoSchema = SessionSchema.extend({
  busy: z.boolean().describe('Whether a prompt or shell command is running in it now'),
});
export type SessionInfo = z.infer<typeof SessionInfoSchema>;

export const PartSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  messageId: z.string(),
  /** 0-based position within its message. */
  seq: z.number().int(),
  type: z.string().describe('text | tool_call | tool_result | error | shell'),
  /** Any JSON value. */
  data: z
    .unknown()
    .describe(
      'text: {text}; tool_call: {toolCallId, toolName, input}; tool_result: {toolCallId, toolName, output, isError}; ' +
        'error: {message}; shell: {command, cwd, done, exitCode, signal, stdout, stderr, stdoutTruncated, stderrTruncated, timedOut, aborted, durationMs}',
    ),
});
export type Part = z.infer<typeof PartSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  /** 0-based position within its session. */
  seq: z.number().int(),
  role: z.enum(MESSAGE_ROLES),
  /** null e.g. with `--no-auth`. */
  tokenId: z.string().nullable().describe('Public id of the token that sent the request'),
  status: z.enum(MESSAGE_STATUSES),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  error: z.string().nullable(),
  parts: z.array(PartSchema),
});
export type Message = z.infer<typeof MessageSchema>;

/** What a shell command left: the runner's exit status (proc/run.ts) and its captured output. */
export const ShellResultSchema = z.object({
  /** null when the shell was ended by a signal (or never started because already aborted). */
  exitCode: z.number().int().nullable(),
  /** e.g. 'SIGTERM' when a timeout or abort stopped it. */
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  timedOut: z.boolean(),
  aborted: z.boolean(),
  durationMs: z.number(),
});
export type ShellResult = z.infer<typeof ShellResultSchema>;

/** What the `shell` part of a role-`shell` message holds: the runner's result, plus what ran. */
export const ShellPartDataSchema = ShellResultSchema.extend({
  command: z.string(),
  cwd: z.string(),
  /** False while the command runs; the result fields are filled in when it ends. */
  done: z.boolean(),
  /** null while the command runs. */
  durationMs: z.number().nullable(),
});
export type ShellPartData = z.infer<typeof ShellPartDataSchema>;

// --- requests and answers ---

export const SessionIdSchema = z.string().min(1).max(128);

const TitleSchema = z.string().min(1).max(TITLE_MAX_CHARS);
const notBlank = (s: string) => s.trim().length > 0;

export const SessionCreateSchema = z
  .object({
    title: TitleSchema.optional(),
    directory: z
      .string()
      .min(1)
      .max(DIRECTORY_MAX_CHARS)
      .describe(
        "An existing directory inside the project, relative to it (or absolute), and inside a scoped token's scopes; default the project itself (for a scoped token: its first scope inside the project)",
      )
      .optional(),
  })
  .strict();
export type SessionCreate = z.infer<typeof SessionCreateSchema>;

export const SessionPatchSchema = z.object({ title: TitleSchema.optional() }).strict();
export type SessionPatch = z.infer<typeof SessionPatchSchema>;

/** A prompt for the agent. */
export const MessageCreateSchema = z.object({ text: z.string().max(PROMPT_MAX_CHARS).refine(notBlank, 'must not be empty or blank') }).strict();
export type MessageCreate = z.infer<typeof MessageCreateSchema>;

export const ShellCommandSchema = z
  .object({
    command: z
      .string()
      .max(COMMAND_MAX_CHARS)
      .refine(notBlank, 'must not be empty or blank')
      .refine((s) => !s.includes('\0'), 'must not contain a NUL byte'),
    timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).describe(`Killed after this long (default ${DEFAULT_TIMEOUT_MS})`).optional(),
  })
  .strict();
export type ShellCommand = z.infer<typeof ShellCommandSchema>;

export const SessionListSchema = z.object({ sessions: z.array(SessionInfoSchema) });
export type SessionList = z.infer<typeof SessionListSchema>;

export const MessageListSchema = z.object({ messages: z.array(MessageSchema) });
export type MessageList = z.infer<typeof MessageListSchema>;

export const SessionDeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) });
export type SessionDeleted = z.infer<typeof SessionDeletedSchema>;

export const AbortResultSchema = z.object({ aborted: z.boolean().describe('false if nothing was running') });
export type AbortResult = z.infer<typeof AbortResultSchema>;
