// Finding and signalling every process a terminal started, so ending a terminal leaves no orphans.
//
// node-pty makes the child a process session leader (setsid), so its pid is the session id of
// everything it starts ("session" in this file always means that Unix session). A process group is
// not enough: an interactive shell with job control puts each background job (`sleep 1000 &`) in
// its own process group, and those survive `kill(-pid)`. The session is the right unit, and only a
// deliberate `setsid` escapes it (that is how daemons detach, and we let them). On Linux we read
// session ids from /proc; elsewhere we fall back to the process group, which covers the shell and
// its foreground job.
//
// Pid reuse: Linux does not hand out a pid while it is still in use as a session or process
// group id, so signalling members of session `sid` is safe while any member exists. Callers stop
// signalling a session once it has been seen empty.

import { isLive, scan } from '../proc/procfs.js';

export type Signal = 'SIGHUP' | 'SIGKILL' | 'SIGTERM';

/**
 * Live (non-zombie) pids whose session id is `sid`, or null when /proc is unavailable.
 * Zombies are dead: they hold only an exit status until their parent (or init) reaps them.
 */
export async function processSessionMembers(sid: number): Promise<number[] | null> {
  const stats = await scan();
  if (stats === null) return null;
  return stats.filter((s) => s.session === sid && isLive(s)).map((s) => s.pid);
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
export async function signalProcessSession(sid: number, signal: Signal): Promise<number> {
  const members = await processSessionMembers(sid);
  if (members === null) return trySignal(-sid, signal) ? 1 : 0;
  for (const pid of members) trySignal(pid, signal);
  return members.length;
}

/** Whether any process of the session is still alive (see signalProcessSession for the fallback). */
export async function processSessionAlive(sid: number): Promise<boolean> {
  const members = await processSessionMembers(sid);
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
