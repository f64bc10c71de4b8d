// Reading Linux's /proc: one process's stat line, a scan of every process, the boot id and a
// process's initial environment. Everything returns null (or false) where /proc is missing, so
// callers can fall back to what POSIX offers (signalling a process group).

import fs from 'node:fs';
import fsp from 'node:fs/promises';

const PROC = '/proc';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), X (dead), ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Clock ticks after boot at which the process started: with the boot id, it names one process. */
  startTime: number;
}

/** Parse /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces or ')'. */
export function parseStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  // After ") ": field 3 (state) onwards; starttime is field 22 of proc(5).
  const f = text.slice(close + 2).split(' ');
  const [ppid, pgrp, session, startTime] = [f[1], f[2], f[3], f[19]].map((s) => Number.parseInt(s ?? '', 10));
  if (![pid, ppid, pgrp, session, startTime].every((n) => Number.isSafeInteger(n))) return null;
  return { pid, state: f[0] ?? '', ppid: ppid!, pgrp: pgrp!, session: session!, startTime: startTime! };
}

/** Zombies (and dead tasks) hold only an exit status: they cannot be signalled into anything. */
export function isLive(s: ProcStat): boolean {
  return s.state !== 'Z' && s.state !== 'X';
}

let available: boolean | undefined;

export function hasProc(): boolean {
  if (available === undefined) {
    try {
      fs.accessSync(`${PROC}/self/stat`);
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

/** One process's stat, or null if it does not exist (or /proc is missing). */
export function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(fs.readFileSync(`${PROC}/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

const isPidName = (n: string) => /^\d+$/.test(n);

/** Every process, synchronously: for the exit handler and the start-up reap, which must not interleave. */
export function scanSync(): ProcStat[] | null {
  if (!hasProc()) return null;
  const out: ProcStat[] = [];
  for (const n of fs.readdirSync(PROC).filter(isPidName)) {
    const s = readStat(Number(n));
    if (s) out.push(s);
  }
  return out;
}

let inflight: Promise<ProcStat[]> | null = null;

/**
 * Every process. Concurrent callers (several terminals being ended at once, each polling) share
 * the pass in flight instead of each reading every process's stat file.
 */
export function scan(): Promise<ProcStat[] | null> {
  if (!hasProc()) return Promise.resolve(null);
  inflight ??= (async () => {
    try {
      const names = (await fsp.readdir(PROC)).filter(isPidName);
      const stats = await Promise.all(names.map((n) => fsp.readFile(`${PROC}/${n}/stat`, 'utf8').then(parseStat, () => null)));
      return stats.filter((s): s is ProcStat => s !== null);
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

let boot: string | null | undefined;

/** Changes at every boot; start times from another boot say nothing about today's processes. */
export function bootId(): string | null {
  if (boot === undefined) {
    try {
      boot = fs.readFileSync(`${PROC}/sys/kernel/random/boot_id`, 'utf8').trim() || null;
    } catch {
      boot = null;
    }
  }
  return boot;
}

/**
 * Whether the environment `pid` was started with contains exactly `entry` ("NAME=value"). False
 * when it cannot be read (gone, or another user's process).
 */
export function environHas(pid: number, entry: string): boolean {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(`${PROC}/${pid}/environ`);
  } catch {
    return false;
  }
  return raw.toString('utf8').split('\0').includes(entry);
}
