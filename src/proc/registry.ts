// Every process session (a Unix session, setsid; never an agent session) this server process
// starts (terminals, shell commands, the agent's commands), so that none outlives it:
// - in memory: on process exit, however it happens short of SIGKILL, each is SIGKILLed;
// - on disk: `procs/<instance>.json` in each attached data directory (0600 in 0700, replaced
//   atomically, changes coalesced), so that after a SIGKILL or a crash the next server can reap
//   them (reap.ts). The file exists only while something is recorded.
// Only a process that leaves its session on purpose (setsid, daemonising) escapes both.
//
// The unit is the session, not the process group: an interactive shell puts each background job
// in its own group, but all of them stay in the session the server created (node-pty and the
// command runner both call setsid, so the child's pid is the session id).

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ensurePrivateDir } from '../fs/atomic-json.js';
import { INSTANCE_ID } from './env.js';
import { indexProcs, stillSame, verifiedMembers } from './members.js';
import { bootId, readStat, scanSync } from './procfs.js';

export const REGISTRY_VERSION = 1;
export const PROCESS_SESSION_KINDS = ['terminal', 'command'] as const;
export type ProcessSessionKind = (typeof PROCESS_SESSION_KINDS)[number];

const ProcessSessionSchema = z.object({
  sid: z.number().int().positive(),
  startTime: z.number().int().nonnegative().nullable(),
  kind: z.enum(PROCESS_SESSION_KINDS),
});
export const RegistryFileSchema = z.object({
  version: z.literal(REGISTRY_VERSION),
  /** The recording server's INSTANCE_ID (also in its children's environment). */
  instance: z.string().regex(/^[0-9a-f]{32}$/),
  pid: z.number().int().positive(),
  /** The recording server's start time: with bootId, tells whether it still runs. */
  startTime: z.number().int().nonnegative(),
  bootId: z.string().min(1),
  // Far more than one server starts; bounds the work a damaged file can cause at start-up.
  // (Named `groups` in the file format; each entry is a process session.)
  groups: z.array(ProcessSessionSchema).max(100_000),
});
export type RegistryFile = z.infer<typeof RegistryFileSchema>;
export type RecordedProcessSession = z.infer<typeof ProcessSessionSchema>;

/** Where the registry files live inside a data directory. */
export function registryDir(dataDir: string): string {
  return path.join(dataDir, 'procs');
}

const live = new Map<number, RecordedProcessSession>();

/**
 * Record a process session the server just started (`sid` = the child's pid, read before the child can
 * have been reaped). Returns the release function, to call once the session is known to be empty
 * or has been sent SIGKILL; it is idempotent and never removes a later record with the same id.
 */
export function trackProcessSession(sid: number, kind: ProcessSessionKind): () => void {
  const record: RecordedProcessSession = { sid, startTime: readStat(sid)?.startTime ?? null, kind };
  live.set(sid, record);
  schedule();
  return () => {
    if (live.get(sid) !== record) return;
    live.delete(sid);
    schedule();
  };
}

/** What is recorded now (tests, diagnostics). */
export function trackedProcessSessions(): RecordedProcessSession[] {
  return [...live.values()].map((g) => ({ ...g }));
}

// --- the files ---

interface Attachment {
  file: string;
  onError: (err: unknown) => void;
  written: boolean;
}

const attached = new Map<string, Attachment>();
const self = (() => {
  const stat = readStat(process.pid);
  const boot = bootId();
  // Without /proc nothing could verify the records later: keep them in memory only.
  return stat && boot ? { pid: process.pid, startTime: stat.startTime, bootId: boot } : null;
})();
let writing: Promise<void> | null = null;
let again = false;

/**
 * Record this process's sessions in `dataDir` from now on, until the returned detach is called
 * (which waits for a write in flight, and removes the file if nothing is recorded any more).
 */
export function attachDataDir(dataDir: string, onError: (err: unknown) => void): () => Promise<void> {
  const dir = registryDir(dataDir);
  const a: Attachment = { file: path.join(dir, `${INSTANCE_ID}.json`), onError, written: false };
  attached.set(dir, a);
  schedule();
  return async () => {
    if (attached.get(dir) !== a) return;
    await flushRegistry();
    attached.delete(dir);
    if (live.size === 0 && a.written) await fsp.rm(a.file, { force: true }).catch(onError);
  };
}

/** Resolves when the files reflect every change made so far. */
export async function flushRegistry(): Promise<void> {
  while (writing) await writing;
}

function schedule(): void {
  if (!self || attached.size === 0) return;
  if (writing) {
    again = true;
    return;
  }
  // Changes that arrive during a write are coalesced into the next one.
  writing = (async () => {
    try {
      do {
        again = false;
        await writeAll();
      } while (again);
    } finally {
      writing = null;
    }
  })();
}

async function writeAll(): Promise<void> {
  const body: RegistryFile = { version: REGISTRY_VERSION, instance: INSTANCE_ID, ...self!, groups: [...live.values()] };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  for (const a of [...attached.values()]) {
    try {
      if (live.size === 0) {
        if (a.written) await fsp.rm(a.file, { force: true });
        a.written = false;
        continue;
      }
      await ensurePrivateDir(path.dirname(a.file));
      await replaceFile(a.file, text);
      a.written = true;
    } catch (err) {
      a.onError(err);
    }
  }
}

/**
 * Atomic replace (temp file 0600, rename) without the fsyncs of writePrivateFileAtomic: what the
 * file guards against is this process dying, which a completed rename survives; after a machine
 * crash every process it lists is gone anyway. Skipping them keeps the window in which a session
 * that just started is not on disk yet as short as possible.
 */
async function replaceFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fsp.writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

// --- process exit ---

/**
 * SIGKILL every recorded session, synchronously (the only kind of work an 'exit' listener can
 * do), then remove this process's files: nothing they list can still run.
 */
export function killAllSync(): void {
  if (live.size > 0) {
    const table = scanSync();
    const procs = table && indexProcs(table);
    for (const g of live.values()) {
      if (procs === null) {
        signal(-g.sid, 'SIGKILL'); // no /proc: the group, which holds at least the leader's jobs
        continue;
      }
      for (const p of verifiedMembers(g, INSTANCE_ID, procs).pids) {
        if (stillSame(p, readStat(p.pid))) signal(p.pid, 'SIGKILL');
      }
    }
    live.clear();
  }
  for (const a of attached.values()) {
    try {
      if (a.written) fs.rmSync(a.file, { force: true });
    } catch {
      // Exiting: the next server finds the file, sees this process gone and the sessions empty.
    }
  }
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // ESRCH: gone already. EPERM: not ours.
  }
}

process.once('exit', killAllSync);
