// Finding and signalling every process a terminal started, so ending a terminal leaves no orphans.
//
// node-pty makes the child a session leader (setsid), so its pid is the session id of everything
// it starts. A process group is not enough: an interactive shell with job control puts each
// background job (`sleep 1000 &`) in its own process group, and those survive `kill(-pid)`. The
// session is the right unit, and only a deliberate `setsid` escapes it (that is how daemons
// detach, and we let them). On Linux we read session ids from /proc; elsewhere we fall back to
// the process group, which covers the shell and its foreground job.
//
// Pid reuse: Linux does not hand out a pid while it is still in use as a session or process
// group id, so signalling members of session `sid` is safe while any member exists. Callers stop
// signalling a session once it has been seen empty.

import fs from 'node:fs/promises';

const PROC = '/proc';

export type Signal = 'SIGHUP' | 'SIGKILL' | 'SIGTERM';

interface ProcStat {
  pid: number;
  state: string;
  session: number;
}

/** Parse /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces or ')'. */
function parseStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  // After ") ": state ppid pgrp session ...
  const fields = text.slice(close + 2).split(' ');
  const session = Number.parseInt(fields[3] ?? '', 10);
  if (!Number.isInteger(pid) || !Number.isInteger(session)) return null;
  return { pid, state: fields[0] ?? '', session };
}

let procAvailable: boolean | undefined;

async function hasProc(): Promise<boolean> {
  if (procAvailable === undefined) {
    try {
      await fs.access(`${PROC}/self/stat`);
      procAvailable = true;
    } catch {
      procAvailable = false;
    }
  }
  return procAvailable;
}

let inflight: Promise<ProcStat[]> | null = null;

/**
 * One pass over /proc. Concurrent callers (several terminals being ended at once, each polling)
 * share the pass in flight instead of each reading every process's stat file.
 */
function scanProc(): Promise<ProcStat[]> {
  inflight ??= (async () => {
    try {
      const names = await fs.readdir(PROC);
      const stats = await Promise.all(
        names
          .filter((n) => /^\d+$/.test(n))
          .map((n) => fs.readFile(`${PROC}/${n}/stat`, 'utf8').then(parseStat, () => null)),
      );
      return stats.filter((s): s is ProcStat => s !== null);
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/**
 * Live (non-zombie) pids whose session id is `sid`, or null when /proc is unavailable.
 * Zombies are dead: they hold only an exit status until their parent (or init) reaps them.
 */
export async function sessionMembers(sid: number): Promise<number[] | null> {
  if (!(await hasProc())) return null;
  const stats = await scanProc();
  return stats.filter((s) => s.session === sid && s.state !== 'Z' && s.state !== 'X').map((s) => s.pid);
}

/** Send `signal` to a pid or (negative) process group; false if it no longer exists. */
export function trySignal(target: number, signal: Signal): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false; // ESRCH (gone) or EPERM (not ours any more): nothing we may do.
  }
}

/**
 * Signal every process of the session led by `sid`. Returns the number of live members found
 * before signalling (0 means the session is empty; with no /proc, whether the group still exists).
 */
export async function signalSession(sid: number, signal: Signal): Promise<number> {
  const members = await sessionMembers(sid);
  if (members === null) return trySignal(-sid, signal) ? 1 : 0;
  for (const pid of members) trySignal(pid, signal);
  return members.length;
}

/** Whether any process of the session is still alive (see signalSession for the fallback). */
export async function sessionAlive(sid: number): Promise<boolean> {
  const members = await sessionMembers(sid);
  if (members === null) {
    try {
      process.kill(-sid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return members.length > 0;
}
