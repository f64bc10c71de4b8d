// At start-up: end the process sessions a previous server recorded (registry.ts) and left behind when it
// was killed (SIGKILL, OOM, a crash) before it could end them itself.
//
// A registry file is acted on only when the server that wrote it is verifiably gone: another boot,
// or its pid now belongs to a process with another start time, or to none. A server that still
// runs (another port, same data directory) keeps its file and its sessions. Each recorded session
// is then signalled only in so far as members.ts can prove its processes are that server's:
// SIGHUP (what a closing terminal sends), then SIGKILL to whatever is left after the grace period.
// Needs Linux's /proc; without it nothing is verified, so nothing is killed.

import fsp from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import { INSTANCE_ID } from './env.js';
import { indexProcs, stillSame, verifiedMembers } from './members.js';
import { bootId, isLive, readStat, scanSync, type ProcStat } from './procfs.js';
import { RegistryFileSchema, attachDataDir, registryDir, type RegistryFile } from './registry.js';

export const DEFAULT_REAP_GRACE_MS = 1000;
const KILL_WAIT_MS = 2000;
const POLL_MS = 25;

export interface ReapOptions {
  /** Between SIGHUP and SIGKILL. Default 1000 ms. */
  graceMs?: number;
  /** For files that cannot be used (never fatal: start-up goes on). */
  warn?: (event: string, fields: Record<string, unknown>) => void;
}

export interface ReapReport {
  /** Registry files of dead servers that were handled and removed. */
  files: string[];
  /** Pids signalled (verified as a dead server's). */
  signalled: number[];
  /** Of those, pids that needed SIGKILL. */
  killed: number[];
  /** Pids still alive after SIGKILL and the wait (normally none). */
  remaining: number[];
  /** Recorded sessions whose leader pid now belongs to an unrelated process: left alone. */
  recycled: number;
  /** Registry files of servers that are still running: left alone. */
  liveServers: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function reapOrphans(dataDir: string, options: ReapOptions = {}): Promise<ReapReport> {
  const report: ReapReport = { files: [], signalled: [], killed: [], remaining: [], recycled: 0, liveServers: 0 };
  const dir = registryDir(dataDir);
  const warn = options.warn ?? (() => {});
  const boot = bootId();
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn('proc.registry_unreadable', { dir, error: errorMessage(err) });
    return report;
  }
  const procs = boot ? scanSync() : null;
  if (procs === null) return report;

  const dead: RegistryFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.includes('.tmp-')) {
      await removeStaleTemp(file, name);
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const rec = await readRecord(file, warn);
    if (rec === undefined) continue; // vanished: another server reaped it meanwhile
    if (rec !== null && (rec.instance === INSTANCE_ID || serverAlive(rec, boot!, procs))) {
      report.liveServers++;
      continue;
    }
    // From another boot, everything it lists ended with that boot.
    if (rec !== null && rec.bootId === boot) dead.push(rec);
    report.files.push(file);
  }

  const first = targetsOf(dead, procs, report);
  if (first.size > 0) {
    report.signalled = [...first.keys()];
    signalAll(first, 'SIGHUP');
    await waitGone(first, options.graceMs ?? DEFAULT_REAP_GRACE_MS);
    // Looked up afresh: a leader that died of the SIGHUP leaves its members to prove themselves,
    // and a member may have started a process meanwhile.
    const rest = targetsOf(dead, scanSync() ?? [], { recycled: 0 });
    report.killed = [...rest.keys()];
    signalAll(rest, 'SIGKILL');
    report.remaining = [...(await waitGone(rest, KILL_WAIT_MS)).keys()];
  }
  // Concurrent start-ups may both get here for one file: whoever is second finds it gone.
  for (const file of report.files) await fsp.rm(file, { force: true });
  return report;
}

function targetsOf(dead: readonly RegistryFile[], table: readonly ProcStat[], counts: { recycled: number }): Map<number, ProcStat> {
  const targets = new Map<number, ProcStat>();
  const procs = indexProcs(table);
  for (const rec of dead) {
    for (const g of rec.groups) {
      const m = verifiedMembers(g, rec.instance, procs);
      if (m.recycled) counts.recycled++;
      for (const p of m.pids) targets.set(p.pid, p);
    }
  }
  return targets;
}

function serverAlive(rec: RegistryFile, boot: string, procs: readonly ProcStat[]): boolean {
  if (rec.bootId !== boot) return false;
  const p = procs.find((s) => s.pid === rec.pid);
  return p !== undefined && p.startTime === rec.startTime;
}

/** The parsed file; null if it is not a valid registry file (removed with a warning); undefined if gone. */
async function readRecord(file: string, warn: NonNullable<ReapOptions['warn']>): Promise<RegistryFile | null | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    warn('proc.registry_unreadable', { file, error: errorMessage(err) });
    return undefined;
  }
  try {
    return RegistryFileSchema.parse(JSON.parse(text));
  } catch (err) {
    // Written atomically, so this is not a torn write: whatever it is, it cannot be trusted to
    // name processes. Nothing is killed on its word; it is removed so it is not met again.
    warn('proc.registry_invalid', { file, error: errorMessage(err).slice(0, 300), note: 'removed; nothing was signalled' });
    return null;
  }
}

/** A temp file left by a writer that died between creating and renaming it (`<file>.tmp-<pid>-<hex>`). */
async function removeStaleTemp(file: string, name: string): Promise<void> {
  const pid = Number(/\.tmp-(\d+)-/.exec(name)?.[1]);
  if (!Number.isSafeInteger(pid) || pid === process.pid) return;
  const writer = readStat(pid);
  if (writer === null || !isLive(writer)) await fsp.rm(file, { force: true });
}

function signalAll(targets: Map<number, ProcStat>, sig: NodeJS.Signals): void {
  for (const p of targets.values()) {
    // Checked again right before the signal: the process may have ended and its pid been reused.
    if (!stillSame(p, readStat(p.pid))) continue;
    try {
      process.kill(p.pid, sig);
    } catch {
      // Gone meanwhile, or not ours to signal.
    }
  }
}

/** Waits until every target has ended (or up to `ms`); returns those still alive. */
async function waitGone(targets: Map<number, ProcStat>, ms: number): Promise<Map<number, ProcStat>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const alive = new Map([...targets].filter(([pid, p]) => stillSame(p, readStat(pid))));
    if (alive.size === 0 || Date.now() >= deadline) return alive;
    await sleep(Math.min(POLL_MS, deadline - Date.now()));
  }
}

type Log = (level: 'info' | 'warn' | 'error', event: string, fields: Record<string, unknown>) => void;

/**
 * What a server does at start-up: reap what a dead predecessor left in `dataDir`, then record this
 * process's sessions there. Returns the detach to call last on shutdown.
 */
export async function recordProcesses(dataDir: string, logger: { log: Log }): Promise<() => Promise<void>> {
  const log: Log = (level, event, fields) => logger.log(level, event, fields);
  try {
    const t0 = performance.now();
    const { files, signalled, killed, remaining, recycled } = await reapOrphans(dataDir, { warn: (event, fields) => log('warn', event, fields) });
    if (files.length > 0) {
      const durationMs = Math.round(performance.now() - t0);
      log(remaining.length > 0 ? 'error' : 'info', 'proc.reaped', { files: files.length, signalled, killed, remaining, recycled, durationMs });
    }
  } catch (err) {
    // Never a reason not to serve: the leftovers stay recorded for the next start.
    log('error', 'proc.reap_failed', { dataDir, error: errorMessage(err) });
  }
  return attachDataDir(dataDir, (err) => log('error', 'proc.registry_unwritable', { dataDir, error: errorMessage(err) }));
}
