// The one runner for one-shot commands: agent sessions' shell commands (session/shell.ts) and the
// agent's `run_command` (agent/command.ts) both run through runInGroup. Not a terminal: no tty,
// stdin is /dev/null; output goes to the caller's capture (capture.ts), which caps it.
//
// - `shell -c command` in a new process session and group (detached: setsid), so that a timeout
//   or an abort stops the whole tree (SIGTERM to the group, SIGKILL after the grace period), not
//   only the shell: `sleep 30 &`, pipelines, make's children.
// - When the shell itself exits, what is left of its group (background jobs) is stopped the same
//   way: leftovers would hold the output pipes open and outlive the run that started them.
// - The environment is childEnv(): the server's without its TETHER_* variables.
// - The process session is recorded (registry.ts) until it has been seen empty or sent SIGKILL, so that it
//   is killed if the server exits meanwhile and reaped by the next server after a SIGKILL.
// A process that leaves the process session (setsid, a daemon) escapes all of this; once the shell has
// exited we stop waiting for its output after the grace period.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { UsageError } from '../errors.js';
import { childEnv } from './env.js';
import { trackProcessSession } from './registry.js';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const MAX_TIMEOUT_MS = 3_600_000;
export const DEFAULT_KILL_GRACE_MS = 2_000;
export const MAX_KILL_GRACE_MS = 60_000;
/** After the shell exited and its group was signalled, how much longer to wait for the pipes to close. */
const DRAIN_AFTER_GRACE_MS = 500;

/**
 * bash when installed, since commands written by people and models assume it (`[[ ]]`, `{a,b}`,
 * `set -o pipefail`) and Debian's /bin/sh is dash; POSIX sh otherwise. Run as `-c` without
 * `-l`/`-i`, so no profile or rc file is read (only $BASH_ENV, if the environment sets it).
 */
export const DEFAULT_SHELL = isExecutable('/bin/bash') ? '/bin/bash' : '/bin/sh';

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  command: string;
  /** Working directory; must be an existing directory. */
  cwd: string;
  /** Absolute path of an executable shell that takes `-c`; default DEFAULT_SHELL. */
  shell?: string;
  /** Integer 1..3_600_000; default 60_000. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL when the command is stopped; integer 0..60_000, default 2000. */
  killGraceMs?: number;
  /** The same after an abort; 0 sends SIGKILL at once. Default killGraceMs. */
  abortGraceMs?: number;
  /** Abort stops the command like a timeout does. */
  signal?: AbortSignal;
  /** What the environment starts from (default the server's); its TETHER_* variables are dropped. */
  env?: NodeJS.ProcessEnv;
  /** Every chunk of output, in order per stream. */
  onOutput(stream: OutputStream, chunk: Buffer): void;
}

export interface RunExit {
  /** null when the shell was ended by a signal (or never started because already aborted). */
  exitCode: number | null;
  /** e.g. 'SIGTERM' when a timeout or abort stopped it. */
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export interface ValidRunOptions {
  command: string;
  shell: string;
  timeoutMs: number;
  killGraceMs: number;
}

/** Checks what a client may send, so a caller can refuse bad input before recording anything. */
export function validateRunOptions(o: { command: unknown; shell?: unknown; timeoutMs?: unknown; killGraceMs?: unknown }): ValidRunOptions {
  if (typeof o.command !== 'string' || o.command.trim() === '') {
    throw new UsageError('command must be a non-empty string');
  }
  if (o.command.includes('\0')) throw new UsageError('command must not contain a NUL byte');
  const shell = o.shell ?? DEFAULT_SHELL;
  if (typeof shell !== 'string' || !shell.startsWith('/') || !isExecutable(shell)) {
    throw new UsageError(`shell must be the absolute path of an executable, e.g. /bin/bash (got ${JSON.stringify(shell)})`);
  }
  return {
    command: o.command,
    shell,
    timeoutMs: intInRange('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
    killGraceMs: intInRange('killGraceMs', o.killGraceMs ?? DEFAULT_KILL_GRACE_MS, 0, MAX_KILL_GRACE_MS),
  };
}

/** Runs the command; resolves with how it ended in every case except bad options or a failure to spawn. */
export async function runInGroup(options: RunOptions): Promise<RunExit> {
  const v = validateRunOptions(options);
  const abortGraceMs = intInRange('abortGraceMs', options.abortGraceMs ?? v.killGraceMs, 0, MAX_KILL_GRACE_MS);
  await assertDirectory(options.cwd);
  const started = performance.now();
  if (options.signal?.aborted) {
    return { exitCode: null, signal: null, timedOut: false, aborted: true, durationMs: 0 };
  }

  return new Promise<RunExit>((resolve, reject) => {
    const child = spawn(v.shell, ['-c', v.command], {
      cwd: options.cwd,
      env: childEnv({ base: options.env ?? process.env }),
      detached: true, // setsid(): a new session and group whose id is the child's pid
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (b: Buffer) => options.onOutput('stdout', b));
    child.stderr.on('data', (b: Buffer) => options.onOutput('stderr', b));

    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let exited = false;
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let done = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const pid = child.pid;
    // Read now: the child cannot have been reaped before this tick ends, so the pid is still its.
    const release = pid === undefined ? () => {} : trackProcessSession(pid, 'command');
    let released = false;
    const releaseGroup = () => {
      released = true;
      release();
    };

    const kill = (sig: NodeJS.Signals) => {
      if (pid === undefined || released) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const stop = (graceMs: number) => {
      if (stopping || pid === undefined) return;
      stopping = true;
      if (graceMs === 0) {
        kill('SIGKILL');
        releaseGroup();
        return;
      }
      kill('SIGTERM');
      // Not cleared when we resolve: a process that closed its pipes but ignores SIGTERM still
      // gets its SIGKILL. unref'd so it never holds the server open.
      setTimeout(() => {
        kill('SIGKILL');
        releaseGroup();
      }, graceMs).unref();
    };
    const onTimeout = () => {
      timedOut = true;
      stop(v.killGraceMs);
    };
    const onAbort = () => {
      if (exited) return; // the result is complete; leftovers are being stopped anyway
      aborted = true;
      stop(abortGraceMs);
    };
    const timer = setTimeout(onTimeout, v.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Seen empty: from now on its id may be reused, so it is never signalled again.
      if (pid !== undefined && !groupExists(pid)) releaseGroup();
      resolve({
        exitCode,
        signal: exitSignal,
        timedOut,
        aborted,
        durationMs: Math.round(performance.now() - started),
      });
    };

    child.once('error', (e) => {
      // Spawn failure (e.g. EAGAIN): there is no process and no result.
      if (pid === undefined && !done) {
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        reject(e);
      }
    });
    child.once('exit', (code, sig) => {
      if (done) return;
      exited = true;
      exitCode = code;
      exitSignal = sig;
      clearTimeout(timer);
      stop(v.killGraceMs);
      // If something outside the group still holds our pipes, stop waiting for it.
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, v.killGraceMs + DRAIN_AFTER_GRACE_MS);
    });
    // 'close': the shell has exited and both pipes are closed, so all output is in.
    child.once('close', finish);
  });
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function intInRange(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

async function assertDirectory(cwd: string): Promise<void> {
  if (typeof cwd !== 'string' || cwd === '') throw new UsageError('cwd must be a non-empty path');
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(cwd);
  } catch {
    // Checked here because spawn() would report a missing cwd as "spawn /bin/bash ENOENT".
    throw new UsageError(`working directory ${cwd} does not exist`);
  }
  if (!stat.isDirectory()) throw new UsageError(`working directory ${cwd} is not a directory`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
