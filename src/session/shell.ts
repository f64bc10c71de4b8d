import { UsageError } from '../errors.js';
import { HeadCapture } from '../proc/capture.js';
import { DEFAULT_SHELL, runInGroup, validateRunOptions, type ValidRunOptions } from '../proc/run.js';
import type { ShellResult } from './types.js';

// One-shot shell commands for a session (the user's `!cmd`, `POST /session/:id/shell`): the one
// runner (proc/run.ts) with stdout and stderr captured apart, each capped. The agent's
// `run_command` uses the same runner (agent/command.ts). Interactive work belongs to the pty.

export { DEFAULT_KILL_GRACE_MS, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from '../proc/run.js';
export { completeUtf8Length } from '../proc/capture.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_OUTPUT_BYTES_LIMIT = 64 * 1024 * 1024;

/** The shell used when none is configured: bash if installed, else /bin/sh (see proc/run.ts). */
export const SHELL = DEFAULT_SHELL;

export interface ShellOptions {
  command: string;
  /** Working directory; must be an existing directory. */
  cwd: string;
  /** Absolute path of the shell to run `-c` with; default SHELL. */
  shell?: string;
  /** Integer 1..3_600_000; default 60_000. */
  timeoutMs?: number;
  /** Per stream (stdout, stderr), integer 0..64 MiB; default 1 MiB. */
  maxOutputBytes?: number;
  /** Abort kills the command like a timeout does. */
  signal?: AbortSignal;
  /** What the environment starts from (default the server's); TETHER_* variables are always dropped. */
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL when the command is stopped; default 2000. */
  killGraceMs?: number;
}

export type { ShellResult } from './types.js';

export interface ValidShellOptions extends ValidRunOptions {
  maxOutputBytes: number;
}

/** Checks what a client may send, so a caller can refuse bad input before recording anything. */
export function validateShellOptions(o: {
  command: unknown;
  shell?: unknown;
  timeoutMs?: unknown;
  maxOutputBytes?: unknown;
  killGraceMs?: unknown;
}): ValidShellOptions {
  const valid = validateRunOptions(o);
  const max = o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > MAX_OUTPUT_BYTES_LIMIT) {
    throw new UsageError(`maxOutputBytes must be an integer from 0 to ${MAX_OUTPUT_BYTES_LIMIT} (got ${JSON.stringify(max)})`);
  }
  return { ...valid, maxOutputBytes: max };
}

/**
 * Runs `command` (see proc/run.ts for how it is stopped and cleaned up). Resolves with the result
 * in every case except bad options or a failure to spawn.
 */
export async function runShell(options: ShellOptions): Promise<ShellResult> {
  const v = validateShellOptions(options);
  const out = new HeadCapture(v.maxOutputBytes);
  const err = new HeadCapture(v.maxOutputBytes);
  const exit = await runInGroup({
    ...options,
    ...v,
    onOutput: (stream, chunk) => (stream === 'stdout' ? out : err).push(chunk),
  });
  return {
    exitCode: exit.exitCode,
    signal: exit.signal,
    stdout: out.text(),
    stderr: err.text(),
    stdoutTruncated: out.truncated,
    stderrTruncated: err.truncated,
    timedOut: exit.timedOut,
    aborted: exit.aborted,
    durationMs: exit.durationMs,
  };
}

/** A result with nothing run yet: no output, no exit status. */
export function emptyResult(): ShellResult {
  return {
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    timedOut: false,
    aborted: false,
    durationMs: 0,
  };
}
