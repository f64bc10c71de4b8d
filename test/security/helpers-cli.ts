// Shared by the crash, concurrency and file-system failure suites: real CLI processes that can be
// killed at a chosen moment, run as another user or under a resource limit; a seeded PRNG; and
// a strict check of the token file.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { readTokenFile } from '../../src/auth/token-file.js';
import { TokenIndex } from '../../src/auth/verify.js';
import type { TokenFile } from '../../src/auth/token-record.js';

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to close. */
  ms: number;
  /** Whether we sent SIGKILL while it was still running. */
  killSent: boolean;
}

export interface Proc {
  child: ChildProcess;
  done: Promise<ProcResult>;
  /** SIGKILL now, if still running. Returns whether the signal was sent. */
  kill(): boolean;
  /** Output so far. */
  output(): { stdout: string; stderr: string };
}

export interface StartOptions {
  /** Run as this user (needs root). */
  uid?: number;
  gid?: number;
  /** A command to run node under, e.g. ['prlimit', '--fsize=4096', '--']. */
  wrap?: string[];
  /** Hard bound: SIGKILL after this long (counts as a failure: `killSent` stays false). */
  timeoutMs?: number;
}

let bin = BIN;
/** The CLI entry the tests run: the checkout's, unless relocated for an unprivileged user. */
export const cliBin = () => bin;
export function relocateCli(newBin: string): void {
  bin = newBin;
}

/** Starts the real built CLI (`bin/tether.js`). */
export function startCli(args: string[], env: NodeJS.ProcessEnv, opts: StartOptions = {}): Proc {
  const started = performance.now();
  const argv = [process.execPath, bin, ...args];
  const [cmd, ...rest] = opts.wrap ? [...opts.wrap, ...argv] : argv;
  const child = spawn(cmd, rest, { env, stdio: ['ignore', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
  let stdout = '';
  let stderr = '';
  let killSent = false;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const done = new Promise<ProcResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, killSent });
    });
  });
  return {
    child,
    done,
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      killSent = child.kill('SIGKILL');
      return killSent;
    },
    output: () => ({ stdout, stderr }),
  };
}

export function runCliAs(args: string[], env: NodeJS.ProcessEnv, opts: StartOptions = {}): Promise<ProcResult> {
  return startCli(args, env, opts).done;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CreatedJson {
  id: string;
  name: string;
  token: string;
  permissions: string[];
  expiresAt: string | null;
}

/** The object `create --json` prints, if it printed one completely. */
export function parseCreated(stdout: string): CreatedJson | undefined {
  const line = stdout.split('\n')[0];
  if (!line || !stdout.includes('\n')) return undefined;
  try {
    const v = JSON.parse(line) as CreatedJson;
    return typeof v.token === 'string' && typeof v.id === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the token file the way tether does (parse + validate; throws on anything invalid) and
 * fails on any warning (e.g. a mode other than 0600).
 */
export async function readStrict(file: string): Promise<{ data: TokenFile; index: TokenIndex; byName: Map<string, TokenFile['tokens'][number]> }> {
  const warnings: string[] = [];
  const data = await readTokenFile(file, (m) => warnings.push(m));
  if (warnings.length) throw new Error(`token file warnings: ${warnings.join('; ')}`);
  const byName = new Map(data.tokens.map((t) => [t.name, t]));
  return { data, index: new TokenIndex(data), byName };
}

/** Files in the token directory other than the token file itself (lock dir, temp files). */
export function strayEntries(file: string): string[] {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) return [];
  // The lock file (`<file>.lock`, an empty kernel-lock target) is permanent by design.
  return fs.readdirSync(dir).filter((f) => f !== path.basename(file) && f !== `${path.basename(file)}.lock`);
}
