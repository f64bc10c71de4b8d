// Helpers for the process-registry tests: real detached sessions, their start times, and registry
// files written as a (dead or live) server would have written them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bootId, readStat } from '../../src/proc/procfs.js';
import { REGISTRY_VERSION, registryDir, type RecordedProcessSession, type RegistryFile } from '../../src/proc/registry.js';
import { isAlive } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

export { isAlive, waitFor };

/** Pids to SIGKILL after each test, whatever happened. */
export const spawned = new Set<number>();

export function killSpawned(): void {
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  spawned.clear();
}

export function tempData(): { dir: string; cleanup(): void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-procs-')));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function startTime(pid: number): number {
  const s = readStat(pid);
  if (!s) throw new Error(`no process ${pid}`);
  return s.startTime;
}

export interface Session {
  /** The leader's pid = the session id. */
  sid: number;
  /** Its start time, read while it certainly existed. */
  startTime: number;
  /** Pids the script printed on stdout, one per line (its background jobs). */
  printed: Promise<number[]>;
}

/**
 * `bash -c` in a new session (setsid), as the server starts commands: `setup` prints the pids of
 * the jobs it leaves behind, one per line, then `then` runs (e.g. `wait`, `exec sleep 300`, or
 * nothing: the leader exits). `marker` is the TETHER_INSTANCE value in its environment (none if null).
 */
export function startSession(setup: string, marker: string | null, then = ''): Session {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  if (marker !== null) env.TETHER_INSTANCE = marker;
  const child = spawn('bash', ['-c', `${setup}\necho end\n${then}`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env });
  const sid = child.pid!;
  spawned.add(sid);
  const st = startTime(sid); // same tick as the spawn: not reaped yet
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const printed = waitFor(() => out.includes('end\n') && out, { what: `session ${sid} to print its pids` }).then((text) => {
    const pids = text
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
    for (const p of pids) spawned.add(p);
    return pids;
  });
  printed.catch(() => {}); // awaited by the tests that need it
  child.unref();
  return { sid, startTime: st, printed };
}

export const randomInstance = () => randomBytes(16).toString('hex');

/** A registry file as a server with these traits would have written it. */
export function writeRegistry(
  dataDir: string,
  server: { instance: string; pid: number; startTime: number; bootId?: string },
  groups: RecordedProcessSession[],
): string {
  const dir = registryDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const body: RegistryFile = { version: REGISTRY_VERSION, bootId: bootId()!, ...server, groups };
  const file = path.join(dir, `${server.instance}.json`);
  fs.writeFileSync(file, JSON.stringify(body), { mode: 0o600 });
  return file;
}

/** A server that is verifiably gone: this process's pid, but another start time. */
export function deadServer(instance = randomInstance()) {
  return { instance, pid: process.pid, startTime: startTime(process.pid) + 1_000_000 };
}

/** A server that still runs (this very process, under another instance id). */
export function liveServer(instance = randomInstance()) {
  return { instance, pid: process.pid, startTime: startTime(process.pid) };
}
