// Which live processes verifiably belong to a session the server started, given only what was
// recorded at spawn time: the session id (the leader's pid) and the leader's start time. Used to
// end sessions when the server exits and to reap those of a server that died (reap.ts). The rule
// is to never signal a process that might be someone else's:
//
// - The leader is alive with the recorded start time: it is our process, and so is every member
//   of its session. (Linux does not reuse a pid while it is still some process's session or
//   group id, so no unrelated session can share the id while ours has a member.)
// - A process has the leader's pid but another start time: the pid was recycled, which means our
//   session had emptied. Nothing to do.
// - The leader is gone (e.g. a shell that exited on SIGHUP, leaving a job behind): members of the
//   session may still be ours, or, if our session emptied and the id was later taken by an
//   unrelated session leader that exited too, someone else's. A member counts only if it started
//   no earlier than our leader and was started with our TETHER_INSTANCE in its environment.
//   (A process that cleared its environment is then left alone: the safe way to be wrong.) The
//   same rule applies when the leader's start time could not be read at spawn.

import { INSTANCE_VAR } from './env.js';
import { environHas, isLive, type ProcStat } from './procfs.js';

export interface RecordedSession {
  /** Session id: the leader's pid. */
  sid: number;
  /** The leader's start time (clock ticks after boot), or null if it could not be read. */
  startTime: number | null;
}

export interface Members {
  /** Live processes to signal (the leader first when alive). */
  pids: ProcStat[];
  /** The leader's pid now belongs to another process. */
  recycled: boolean;
}

export function verifiedMembers(
  session: RecordedSession,
  instance: string,
  procs: readonly ProcStat[],
  hasEnv: (pid: number, entry: string) => boolean = environHas,
): Members {
  const leader = procs.find((p) => p.pid === session.sid);
  const inSession = procs.filter((p) => p.session === session.sid && isLive(p));
  if (leader && session.startTime !== null) {
    if (leader.startTime !== session.startTime || leader.session !== session.sid) return { pids: [], recycled: true };
    return { pids: inSession.sort((a, b) => (a.pid === session.sid ? -1 : b.pid === session.sid ? 1 : 0)), recycled: false };
  }
  // The leader is gone, or its start time was never known: each member must prove itself.
  const marker = `${INSTANCE_VAR}=${instance}`;
  const pids = inSession.filter((p) => (session.startTime === null || p.startTime >= session.startTime) && hasEnv(p.pid, marker));
  return { pids, recycled: false };
}

/** Whether `p` is still the same process (pid and start time) right before it is signalled. */
export function stillSame(p: ProcStat, now: ProcStat | null): boolean {
  return now !== null && now.startTime === p.startTime && isLive(now);
}
