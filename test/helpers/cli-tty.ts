// Runs the built CLI with a terminal on standard input (a node-pty pseudo-terminal) while its
// stdout and stderr go to files, so a test can tell them apart: for `tether attach`, which needs a
// terminal to read keys from, against servers whose answers the test checks byte for byte.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN, type CliResult } from './cli.js';

export async function runCliTty(args: string[], env: NodeJS.ProcessEnv, opts: { timeout?: number; cwd?: string } = {}): Promise<CliResult & { tty: string }> {
  const pty = await import('node-pty');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-tty-'));
  const out = path.join(dir, 'stdout');
  const err = path.join(dir, 'stderr');
  try {
    const p = pty.spawn('/bin/sh', ['-c', 'out="$1"; err="$2"; shift 2; exec "$@" >"$out" 2>"$err"', 'sh', out, err, process.execPath, BIN, ...args], {
      env: env as Record<string, string>,
      cols: 100,
      rows: 30,
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    let tty = '';
    p.onData((d) => (tty += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeout ?? 30_000);
    const exit = await new Promise<{ exitCode: number; signal?: number }>((resolve) => p.onExit(resolve));
    clearTimeout(timer);
    return {
      // Killed by a signal (e.g. the timeout): no exit code, like a child_process result.
      code: exit.signal ? null : exit.exitCode,
      signal: null,
      stdout: fs.readFileSync(out, 'utf8'),
      stderr: fs.readFileSync(err, 'utf8'),
      tty,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
