import { errorMessage } from '../errors.js';
import { HeadTailCapture } from '../proc/capture.js';
import { runInGroup } from '../proc/run.js';

// The agent's `run_command` on the one runner (proc/run.ts: own session and process group,
// timeout, scrubbed environment, cleanup on server exit and after a crash). What differs from the
// session's shell commands is only the shape of the result, made for a model:
// - stdout and stderr interleaved into one capped `output`, keeping its head and its tail;
// - an abort kills at once (SIGKILL, no grace): the user pressed stop;
// - a command that cannot start is a result saying so, not an exception.
// Another runner with the same signature can be injected (tests).

export interface RunCommandOptions {
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Cap on `output` in bytes (head and tail kept). */
  maxOutputBytes?: number;
}

export interface CommandResult {
  /** Exit code, or null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  output: string;
  truncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export type RunCommand = (command: string, options: RunCommandOptions) => Promise<CommandResult>;

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;

export const runLocalCommand: RunCommand = async (command, options) => {
  const capture = new HeadTailCapture(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  try {
    const exit = await runInGroup({
      command,
      cwd: options.cwd,
      timeoutMs: options.timeoutMs,
      abortGraceMs: 0,
      ...(options.signal ? { signal: options.signal } : {}),
      onOutput: (_stream, chunk) => capture.push(chunk),
    });
    return { exitCode: exit.exitCode, signal: exit.signal, ...capture.result(), timedOut: exit.timedOut, aborted: exit.aborted, durationMs: exit.durationMs };
  } catch (err) {
    return { exitCode: null, signal: null, output: `failed to start: ${errorMessage(err)}`, truncated: false, timedOut: false, aborted: false, durationMs: 0 };
  }
};
