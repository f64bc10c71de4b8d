// Records of the session store, as the rest of tether sees them (camelCase, ISO 8601 times).
import type { ShellResult } from './shell.js';

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

export interface Session {
  id: string;
  title: string;
  /** Absolute real path of the session's working directory (inside the project). */
  directory: string;
  createdAt: string;
  /** Bumped by a title change and by every message created or finished in the session. */
  updatedAt: string;
}

export interface Part {
  id: string;
  sessionId: string;
  messageId: string;
  /** 0-based position within its message. */
  seq: number;
  type: PartType;
  /** Any JSON value. */
  data: unknown;
}

export interface Message {
  id: string;
  sessionId: string;
  /** 0-based position within its session. */
  seq: number;
  role: MessageRole;
  /** Public id of the auth token that sent the request, or null (e.g. `--no-auth`). */
  tokenId: string | null;
  status: MessageStatus;
  createdAt: string;
  completedAt: string | null;
  error: string | null;
  parts: Part[];
}

/** What the `shell` part of a role-`shell` message holds: the runner's result, plus what ran. */
export interface ShellPartData extends Omit<ShellResult, 'durationMs'> {
  command: string;
  cwd: string;
  /** False while the command runs; the result fields are filled in when it ends. */
  done: boolean;
  /** null while the command runs. */
  durationMs: number | null;
}
