// Environments for file-system failure tests. Root ignores file modes, so when we run as root (here
// and in CI) the CLI and the server run as an unprivileged user (nobody, 65534) over directories
// that user owns; as any other user they run as that user and the modes apply to it directly.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from '../helpers/cli.js';
import { isolatedEnv } from '../helpers/env.js';
import { relocateCli, runCliAs, type ProcResult, type StartOptions } from './helpers-cli.js';

export const IS_ROOT = process.getuid?.() === 0;
/** Who the processes under test run as. */
export const AS: { uid?: number; gid?: number } = IS_ROOT ? { uid: 65534, gid: 65534 } : {};

let probed: string | null | undefined;

function canRun(bin: string): { ok: boolean; why: string } {
  const r = spawnSync(process.execPath, [bin, '--version'], { uid: AS.uid, gid: AS.gid, encoding: 'utf8', cwd: os.tmpdir() });
  return { ok: r.status === 0, why: (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0] ?? '' };
}

/**
 * Null when the unprivileged user can run the CLI; else why not. A checkout the user cannot reach
 * (e.g. under /root) is copied (what the CLI needs) to a readable place under /tmp; if that does not
 * work either, the tests that need it fail and say so.
 */
export function unprivilegedProblem(): string | null {
  if (probed !== undefined) return probed;
  if (!IS_ROOT) return (probed = null);
  const first = canRun(BIN);
  if (first.ok) return (probed = null);
  const root = path.resolve(path.dirname(BIN), '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-checkout-'));
  fs.chmodSync(dir, 0o755);
  // A copy of what the CLI needs, readable by everyone (a bind mount would keep the checkout's
  // own mode, which may be what keeps the user out).
  for (const part of ['bin', 'dist', 'package.json', 'node_modules']) spawnSync('cp', ['-a', path.join(root, part), dir]);
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const moved = path.join(dir, 'bin', 'tether.js');
  const second = canRun(moved);
  if (second.ok) {
    relocateCli(moved);
    console.warn(`note: uid ${AS.uid} cannot reach ${root}; running the CLI from a copy at ${dir}`);
    return (probed = null);
  }
  probed =
    `cannot run ${BIN} as uid ${AS.uid} (needed because root ignores file modes): ${first.why}; ` + `a copy at ${dir} did not help either: ${second.why}`;
  return probed;
}

export interface OwnedEnv {
  root: string;
  configHome: string;
  dataHome: string;
  tokenDir: string;
  tokenFile: string;
  project: string;
  env: NodeJS.ProcessEnv;
  /** The real CLI, as the unprivileged user. */
  cli(args: string[], opts?: StartOptions): Promise<ProcResult>;
  cleanup(): void;
}

export function ownedEnv(prefix = 'tether-fsfail-'): OwnedEnv {
  const problem = unprivilegedProblem();
  if (problem) throw new Error(problem);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(root, 0o755); // the other user must be able to reach what is inside
  const configHome = path.join(root, 'config');
  const dataHome = path.join(root, 'data');
  const project = path.join(root, 'project');
  for (const d of [configHome, dataHome, project]) {
    fs.mkdirSync(d, { mode: 0o755 });
    if (IS_ROOT) fs.chownSync(d, AS.uid!, AS.gid!);
  }
  const tokenDir = path.join(configHome, 'tether');
  const env = isolatedEnv(root, configHome, dataHome);
  return {
    root,
    configHome,
    dataHome,
    tokenDir,
    tokenFile: path.join(tokenDir, 'auth-tokens.json'),
    project,
    env,
    cli: (args, opts = {}) => runCliAs(args, env, { ...AS, timeoutMs: 60_000, ...opts }),
    cleanup() {
      // Undo read-only modes so the tree can be removed (root could anyway; another user could not).
      for (const d of [configHome, tokenDir]) if (fs.existsSync(d)) fs.chmodSync(d, 0o700);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Whether this process may mount file systems (root in a sandbox that allows it). The reason if not. */
export function mountProbe(): { ok: true } | { ok: false; reason: string } {
  if (!IS_ROOT) return { ok: false, reason: 'not running as root' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-mountprobe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.error) return { ok: false, reason: `mount: ${r.error.message}` };
    if (r.status !== 0) return { ok: false, reason: `mount exited ${r.status}: ${r.stderr.trim()}` };
    spawnSync('umount', [dir]);
    return { ok: true };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function mount(args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')} failed (${r.status}): ${r.stderr || r.error?.message}`);
}

export function umount(dir: string): void {
  const r = spawnSync('umount', [dir], { encoding: 'utf8' });
  if (r.status !== 0) spawnSync('umount', ['-l', dir]);
}

/** Fills the file system holding `dir` until only `leaveBytes` (rounded to its block size) stay free. */
export function fillFileSystem(dir: string, leaveBytes: number): { filler: string; freeBytes: number } {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  let written = 0;
  try {
    for (;;) {
      written += fs.writeSync(fd, chunk);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  fs.ftruncateSync(fd, Math.max(0, written - leaveBytes));
  fs.closeSync(fd);
  const st = fs.statfsSync(dir);
  return { filler, freeBytes: st.bavail * st.bsize };
}
