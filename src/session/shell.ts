import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { UsageError } from '../errors.js';

// One-shot shell commands for a session (the agent's and the user's `!cmd`). Not a terminal: no
// tty, stdin is /dev/null, output is captured and capped. Interactive work belongs to the pty.

export const DEFAULT_TIMEOUT_MS = 60_000;
export const MAX_TIMEOUT_MS = 3_600_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_OUTPUT_BYTES_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2_000;

/**
 * bash when installed, since commands written by people and models assume it (`[[ ]]`, `{a,b}`,
 * `set -o pipefail`) and Debian's /bin/sh is dash; POSIX sh otherwise. Run as `-c` without
 * `-l`/`-i`, so no profile or rc file is read (only $BASH_ENV, if the environment sets it).
 */
export const SHELL = isExecutable('/bin/bash') ? '/bin/bash' : '/bin/sh';

export interface ShellOptions {
  command: string;
  /** Working directory; must be an existing directory. */
  cwd: string;
  /** Integer 1..3_600_000; default 60_000. */
  timeoutMs?: number;
  /** Per stream (stdout, stderr), integer 0..64 MiB; default 1 MiB. */
  maxOutputBytes?: number;
  /** Abort kills the command like a timeout does. */
  signal?: AbortSignal;
  /** Default: the server's own environment. */
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL when the command is stopped; default 2000. */
  killGraceMs?: number;
}

export interface ShellResult {
  /** null when the shell was ended by a signal (or never started because already aborted). */
  exitCode: number | null;
  /** e.g. 'SIGTERM' when a timeout or abort stopped it. */
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
}

export interface ValidShellOptions {
  command: string;
  timeoutMs: number;
  maxOutputBytes: number;
  killGraceMs: number;
}

/** Checks what a client may send, so a caller can refuse bad input before recording anything. */
export function validateShellOptions(o: {
  command: unknown;
  timeoutMs?: unknown;
  maxOutputBytes?: unknown;
  killGraceMs?: unknown;
}): ValidShellOptions {
  if (typeof o.command !== 'string' || o.command.trim() === '') {
    throw new UsageError('command must be a non-empty string');
  }
  if (o.command.includes('\0')) throw new UsageError('command must not contain a NUL byte');
  return {
    command: o.command,
    timeoutMs: intInRange('timeoutMs', o.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
    maxOutputBytes: intInRange('maxOutputBytes', o.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, 0, MAX_OUTPUT_BYTES_LIMIT),
    killGraceMs: intInRange('killGraceMs', o.killGraceMs ?? DEFAULT_KILL_GRACE_MS, 0, 60_000),
  };
}

/**
 * Runs `command` with `SHELL -c` in its own process group, so that a timeout or abort can stop the
 * whole tree (SIGTERM to the group, SIGKILL after `killGraceMs`). When the shell itself exits, what
 * is left of its group (background jobs) is stopped the same way: leftovers would hold the output
 * pipes open and outlive the run that started them. A process that leaves the group (setsid)
 * escapes this; once the shell has exited we stop waiting for its output after the grace period.
 * Resolves with the result in every case except a failure to spawn.
 */
export async function runShell(options: ShellOptions): Promise<ShellResult> {
  const v = validateShellOptions(options);
  await assertDirectory(options.cwd);
  const started = performance.now();
  if (options.signal?.aborted) {
    return { ...emptyResult(), aborted: true };
  }

  return new Promise<ShellResult>((resolve, reject) => {
    const child = spawn(SHELL, ['-c', v.command], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true, // setsid(): a new process group whose id is the child's pid
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = new Capture(v.maxOutputBytes);
    const err = new Capture(v.maxOutputBytes);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));

    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let exited = false;
    let timedOut = false;
    let aborted = false;
    let stopping = false;
    let done = false;
    let drainTimer: NodeJS.Timeout | undefined;

    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);

    const stop = () => {
      if (stopping || pid === undefined) return;
      stopping = true;
      killGroup(pid, 'SIGTERM');
      // Not cleared when we resolve: a process that closed its pipes but ignores SIGTERM still
      // gets its SIGKILL. unref'd so it never holds the server open.
      setTimeout(() => killGroup(pid, 'SIGKILL'), v.killGraceMs).unref();
    };
    const onTimeout = () => {
      timedOut = true;
      stop();
    };
    const onAbort = () => {
      if (exited) return; // the result is complete; leftovers are being stopped anyway
      aborted = true;
      stop();
    };
    const timer = setTimeout(onTimeout, v.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
      if (pid !== undefined) liveGroups.delete(pid);
      const stdout = out.text();
      const stderr = err.text();
      resolve({
        exitCode,
        signal: exitSignal,
        stdout,
        stderr,
        stdoutTruncated: out.truncated,
        stderrTruncated: err.truncated,
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
      stop();
      // If something outside the group still holds our pipes, stop waiting for it.
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, v.killGraceMs + 500);
    });
    // 'close': the shell has exited and both pipes are closed, so all output is in.
    child.once('close', finish);
  });
}

/** Keeps the first `limit` bytes of a stream, counting the rest. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private omitted = 0;

  constructor(private readonly limit: number) {}

  get truncated(): boolean {
    return this.omitted > 0;
  }

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
      return;
    }
    if (room > 0) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += room;
    }
    this.omitted += chunk.length - Math.max(room, 0);
  }

  text(): string {
    const buf = Buffer.concat(this.chunks);
    if (!this.truncated) return buf.toString('utf8');
    // Do not cut a multi-byte character in half: drop its leading bytes and count them as omitted.
    const end = completeUtf8Length(buf);
    const omitted = this.omitted + (buf.length - end);
    return `${buf.subarray(0, end).toString('utf8')}\n[output truncated: ${omitted} bytes omitted]`;
  }
}

/** Length of `buf` without a trailing incomplete UTF-8 sequence. */
export function completeUtf8Length(buf: Buffer): number {
  let i = buf.length - 1;
  // Step back over up to 3 continuation bytes (10xxxxxx) to the sequence's lead byte.
  while (i >= 0 && buf.length - i <= 3 && (buf[i]! & 0xc0) === 0x80) i--;
  if (i < 0) return buf.length;
  const lead = buf[i]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buf.length - i >= need ? buf.length : i;
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

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// Detached groups survive their parent. If the server exits while commands run, take them along.
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
});
