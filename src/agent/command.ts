import { spawn } from 'node:child_process';

// The default runner behind the agent's `run_command` tool. The lead can inject another runner
// (the session shell runner) with the same signature; this one is self-contained so the agent
// works on its own.
//
// Why each choice:
// - `/bin/bash -c` in its own process group (`detached`), so a timeout or an abort can kill the
//   whole tree (`sleep 30 &`, pipelines, make's children), not just bash.
// - stdin is closed: an interactive prompt gets EOF instead of hanging until the timeout.
// - stdout and stderr are interleaved into one capped `output` like a terminal shows them, keeping
//   the head and the tail (where build errors and summaries are) when it is too long.
// - our own secrets (`TETHER_*`, e.g. TETHER_MODEL_API_KEY) are removed from the child's
//   environment, so the model cannot simply `echo` the key back.

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
/** After SIGTERM, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 1000;
/** After the shell exits, how long to wait for grandchildren that still hold the pipes. */
const DRAIN_AFTER_EXIT_MS = 500;

/** The environment for agent commands: ours minus tether's own settings and secrets. */
export function commandEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('TETHER_')) out[k] = v;
  return out;
}

/** Keeps the first and last `max/2` bytes of a stream of chunks. */
class HeadTail {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const half = Math.floor(this.max / 2);
    if (this.headBytes < half) {
      const take = chunk.subarray(0, half - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tailBytes > this.max - half) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - (this.max - half);
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }

  result(): { output: string; truncated: boolean } {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    if (this.dropped === 0) return { output: head + tail, truncated: false };
    return { output: `${head}\n[... ${this.dropped} bytes of output omitted ...]\n${tail}`, truncated: true };
  }
}

export const runLocalCommand: RunCommand = (command, options) => {
  const started = Date.now();
  const capture = new HeadTail(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
  return new Promise<CommandResult>((resolve) => {
    let timedOut = false;
    let aborted = options.signal?.aborted ?? false;
    if (aborted) {
      resolve({ exitCode: null, signal: null, output: '', truncated: false, timedOut, aborted, durationMs: 0 });
      return;
    }
    const child = spawn('/bin/bash', ['-c', command], {
      cwd: options.cwd,
      env: commandEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timers: NodeJS.Timeout[] = [];
    let settled = false;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref());
    };
    const onAbort = () => {
      aborted = true;
      // Abort means "stop now": no grace period.
      killGroup('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, options.timeoutMs).unref(),
    );

    child.stdout.on('data', (c: Buffer) => capture.push(c));
    child.stderr.on('data', (c: Buffer) => capture.push(c));

    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      // Anything left in the group (background jobs) goes with the command.
      killGroup('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      const { output, truncated } = capture.result();
      resolve({
        exitCode,
        signal,
        output: spawnError ? `${output}failed to start: ${spawnError.message}` : output,
        truncated,
        timedOut,
        aborted,
        durationMs: Date.now() - started,
      });
    };

    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, sig) => {
      // A background grandchild may keep the pipes open forever; give them a moment to drain.
      timers.push(setTimeout(() => finish(code, sig), DRAIN_AFTER_EXIT_MS).unref());
      child.on('close', () => finish(code, sig));
    });
  });
};
