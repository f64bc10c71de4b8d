// What the client accepts from a server: every parsed body is checked against these before the CLI
// uses it, so a wrong shape is one clear error, never a TypeError deep in a command. Objects are
// loose (a newer server may add fields); the fields the types promise must be there with the right
// types. Each schema is tied to its TypeScript type, so the two cannot drift apart.
import { z } from 'zod';
import type * as T from './types.js';

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO 8601 date-time');
/** A process exit status; anything else would wrap around when the CLI exits with it. */
const exitStatus = z.number().int().min(0).max(255);

/**
 * An enum of the domain's literals. The client imports the domain's types only, so it spells the
 * values out; the Record type makes the compiler insist on exactly the domain's set, no more, no less.
 */
function literals<L extends string>(all: Record<L, true>): z.ZodType<L> {
  return z.enum(Object.keys(all) as [L, ...L[]]);
}
const permission = literals<T.Permission>({ read: true, write: true, execute: true });
const ptyStatus = literals<T.PtyStatus>({ running: true, exited: true });

export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const Whoami: z.ZodType<T.Whoami> = z.looseObject({
  id: z.string().nullable(),
  name: z.string(),
  permissions: z.array(permission),
  expiresAt: isoTime.nullable(),
  authenticatedBy: z.string(),
  scopes: z.array(z.string()).optional(),
  // Unknown kinds or targets from a newer server read as absent.
  kind: z.enum(['share', 'device']).optional().catch(undefined),
  target: z
    .object({ type: z.enum(['pty', 'session']), id: z.string() })
    .optional()
    .catch(undefined),
});

export const Health = z.looseObject({ ok: z.literal(true) });

const settingSource = z.looseObject({
  source: literals<T.SettingSource['source']>({ file: true, env: true, default: true }),
  env: z.string().optional(),
  overridden: z.boolean().optional(),
  note: z.string().optional(),
});

const pairingState = literals<T.PairingState>({ pending: true, paired: true, expired: true, cancelled: true, failed: true });

export const PairingStatus: z.ZodType<T.PairingStatus> = z.looseObject({
  id: z.string(),
  state: pairingState,
  expiresAt: isoTime,
  grant: z.looseObject({
    name: z.string().nullable(),
    permissions: z.array(permission),
    expiresAt: isoTime.nullable(),
    scopes: z.array(z.string()).optional(),
  }),
  device: z.looseObject({ id: z.string(), name: z.string() }).optional(),
});

export const PairingCodeCreated: z.ZodType<T.PairingCodeCreated> = z.intersection(
  PairingStatus,
  z.looseObject({ code: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/) }),
);

export const PublicConfig: z.ZodType<T.PublicConfig> = z.looseObject({
  shell: z.string().nullable(),
  modelUrl: z.string().nullable(),
  model: z.string().nullable(),
  apiKeySet: z.boolean(),
  agentMaxSteps: z.number().int(),
  sources: z.looseObject({
    modelUrl: settingSource,
    model: settingSource,
    apiKey: settingSource,
    shell: settingSource,
    agentMaxSteps: settingSource,
  }),
});

export const Listing: z.ZodType<T.Listing> = z.looseObject({
  path: z.string(),
  entries: z.array(z.looseObject({ name: z.string(), path: z.string(), type: z.enum(['file', 'directory', 'symlink', 'other']), size: z.number().nullable() })),
  truncated: z.boolean(),
});

export const FileContent: z.ZodType<T.FileContent> = z.looseObject({
  path: z.string(),
  size: z.number(),
  encoding: z.enum(['utf8', 'base64']),
  content: z.string(),
});

export const FindFileResult: z.ZodType<T.FindFileResult> = z.looseObject({
  results: z.array(z.looseObject({ path: z.string(), type: z.enum(['file', 'directory']) })),
  truncated: z.boolean(),
});

export const FindTextResult: z.ZodType<T.FindTextResult> = z.looseObject({
  results: z.array(z.looseObject({ path: z.string(), line: z.number(), column: z.number(), text: z.string() })),
  truncated: z.boolean(),
});

/** Ids the CLI prints inside commands to copy (`--pty ID`, `--session ID`): only shell-safe characters. */
export const PTY_ID = /^pty_[A-Za-z0-9]{1,64}$/;
export const SESSION_ID = /^ses_[A-Za-z0-9_-]{1,64}$/;

export const Pty: z.ZodType<T.Pty> = z.looseObject({
  id: z.string().regex(PTY_ID, 'expected a terminal id like pty_0123456789abcdef'),
  title: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string(),
  cols: z.number(),
  rows: z.number(),
  pid: z.number(),
  status: ptyStatus,
  exitCode: exitStatus.nullable(),
  signal: z.number().int().nullable(),
  createdAt: z.string(),
  ownerTokenId: z.string().nullable(),
});

/** A new share link (its `url` carries the token in the fragment). */
export const ShareLink: z.ZodType<T.ShareLink> = z.looseObject({
  id: z.string(),
  name: z.string(),
  target: z.object({ type: z.enum(['pty', 'session']), id: z.string() }),
  expiresAt: isoTime,
  url: z.string().regex(/^https?:\/\/[^#\s]+\/share#tether_[0-9A-Za-z]{28}$/, 'expected a link http(s)://HOST:PORT/share#<token>'),
});

export const PtyTicket: z.ZodType<T.PtyTicket> = z.looseObject({ ticket: z.string(), expiresAt: z.string(), url: z.string() });

export const Session: z.ZodType<T.Session> = z.looseObject({
  id: z.string().regex(SESSION_ID, 'expected a session id like ses_AbC123'),
  title: z.string(),
  directory: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  busy: z.boolean(),
});

export const Part: z.ZodType<T.Part> = z.looseObject({
  id: z.string(),
  sessionId: z.string(),
  messageId: z.string(),
  seq: z.number(),
  type: z.string(),
  data: z.unknown(),
});

export const Message: z.ZodType<T.Message> = z.looseObject({
  id: z.string(),
  sessionId: z.string(),
  seq: z.number(),
  role: z.enum(['user', 'assistant', 'shell']),
  tokenId: z.string().nullable(),
  status: z.enum(['pending', 'running', 'completed', 'error', 'aborted']),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  error: z.string().nullable(),
  parts: z.array(Part),
});

/** The `data` of a `shell` part, once the command has ended. */
export const ShellPartData: z.ZodType<T.ShellPartData> = z.looseObject({
  command: z.string(),
  cwd: z.string(),
  done: z.boolean(),
  exitCode: exitStatus.nullable(),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  timedOut: z.boolean(),
  aborted: z.boolean(),
  durationMs: z.number().nullable(),
});

export const SessionList: z.ZodType<T.SessionList> = z.looseObject({ sessions: z.array(Session) });
export const MessageList: z.ZodType<T.MessageList> = z.looseObject({ messages: z.array(Message) });
export const Aborted: z.ZodType<T.AbortResult> = z.looseObject({ aborted: z.boolean() });
export const Deleted: z.ZodType<T.SessionDeleted> = z.looseObject({ id: z.string(), deleted: z.literal(true) });

/** Every event has a type and properties; the ones the client reads are checked further below. */
export const AnyEvent = z.object({ type: z.string(), properties: z.record(z.string(), z.unknown()) });

/** Properties of the run events the CLI reads; other event types pass unchecked beyond AnyEvent. */
export const RunEventProperties: Record<string, z.ZodType> = {
  'message.created': z.looseObject({ message: Message }),
  'message.part': z.looseObject({ part: Part }),
  'message.part.updated': z.looseObject({ part: Part }),
  'message.part.delta': z.looseObject({ partId: z.string(), offset: z.number().int().nonnegative(), text: z.string() }),
  done: z.looseObject({ message: Message }),
  error: z.looseObject({ error: z.object({ code: z.string(), message: z.string() }) }),
};

/** Control messages on a terminal WebSocket (text frames). */
export const PtyServerMessage: z.ZodType<T.PtyServerMessage> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('exit'), exitCode: exitStatus.nullable(), signal: z.number().int().nullable() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);

/** The first problem zod found, as one short phrase: `parts.0.type: expected string, received number`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const at = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return `${at}${issue.message.replace(/^Invalid input: /, '')}`.slice(0, 300);
}

/** For answers whose body the client ignores (204, or anything a 2xx DELETE returns). */
export const Anything = z.unknown();
