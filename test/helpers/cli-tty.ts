// Runs the built CLI with a terminal on standard input (a node-pty pseudo-terminal) while its
// stdout and stderr go to files, so a test can tell them apart: for `tether attach`, which needs a
// terminal to read keys from, against servers whose answers the test checks byte for byte.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, type CliResult } from './cli.js';

export interface TtyCli {
  /** What the CLI has written so far. */
  stdout(): string;
  stderr(): string;
  /** Types into the terminal. */
  write(data: string): void;
  /** Resolves when it has exited (the files are removed then). */
  done: Promise<CliResult & { tty: string }>;
}

export async function runCliTty(args: string[], env: NodeJS.ProcessEnv, opts: { timeout?: number; cwd?: string } = {}): Promise<CliResult & { tty: string }> {
  return (await spawnCliTty(args, env, opts)).done;
}

export async function spawnCliTty(args: string[], env: NodeJS.ProcessEnv, opts: { timeout?: number; cwd?: string } = {}): Promise<TtyCli> {
  const pty = await import('node-pty');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-tty-'));
  const out = path.join(dir, 'stdout');
  const err = path.join(dir, 'stderr');
  fs.writeFileSync(out, '');
  fs.writeFileSync(err, '');
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  const p = pty.spawn('/bin/sh', ['-c', 'out="$1"; err="$2"; shift 2; exec "$@" >"$out" 2>"$err"', 'sh', out, err, process.execPath, BIN, ...args], {
    env: env,
    cols: 100,
    rows: 30,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let tty = '';
  p.onData((d) => (tty += d));
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 30_000);
  const done = new Promise<{ exitCode: number; signal?: number }>((resolve) => p.onExit(resolve)).then((exit) => {
    clearTimeout(timer);
    const result = {
      // Killed by a signal (e.g. the timeout): no exit code, like a child_process result.
      code: exit.signal ? null : exit.exitCode,
      signal: null,
      stdout: read(out),
      stderr: read(err),
      tty,
    };
    fs.rmSync(dir, { recursive: true, force: true });
    return result;
  });
  return { stdout: () => read(out), stderr: () => read(err), write: (d) => p.write(d), done };
}
