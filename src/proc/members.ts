// Which live processes verifiably belong to a process session (setsid) the server started, given only what was
// recorded at spawn time: the session id (the leader's pid), the leader's start time, and the
// recording server's instance id, which every child gets as TETHER_INSTANCE (env.ts). Used to end
// sessions when the server exits and to reap those of a server that died (reap.ts). The rule is
// to never signal a process that might be someone else's:
//
// - The leader is alive with the recorded start time and was started with the instance marker:
//   it is ours, and so is every member of its session. (Linux does not reuse a pid while it is
//   still some process's session or group id, so no unrelated session can share the id while ours
//   has a member.) The marker is required as well so that a forged registry file, which could name
//   any process with its correct start time (both are public in /proc), cannot point the reaper at
//   a session tether never started.
// - A process has the leader's pid but another start time: the pid was recycled, which means our
//   session had emptied. Nothing to do.
// - Otherwise (the leader is gone, e.g. a shell that exited on SIGHUP leaving a job behind; or it
//   replaced its environment, or its start time could not be read at spawn): members of the
//   session may be ours, or, if our session emptied and the id was later taken by an unrelated
//   session leader that exited too, someone else's. Each member counts only if it started no
//   earlier than our leader and was started with the marker. A process that cleared its
//   environment is then left alone: the safe way to be wrong.

import { INSTANCE_VAR } from './env.js';
import { environHas, isLive, type ProcStat } from './procfs.js';

export interface ProcessSessionLeader {
  /** Process session id: the leader's pid. */
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

/** A process table indexed once, for many lookups (a registry file may list many sessions). */
export interface ProcIndex {
  byPid: Map<number, ProcStat>;
  /** Live processes only. */
  bySid: Map<number, ProcStat[]>;
}

export function indexProcs(procs: readonly ProcStat[]): ProcIndex {
  const byPid = new Map<number, ProcStat>();
  const bySid = new Map<number, ProcStat[]>();
  for (const p of procs) {
    byPid.set(p.pid, p);
    if (!isLive(p)) continue;
    const list = bySid.get(p.session);
    if (list) list.push(p);
    else bySid.set(p.session, [p]);
  }
  return { byPid, bySid };
}

export function verifiedMembers(
  session: ProcessSessionLeader,
  instance: string,
  procs: ProcIndex,
  hasEnv: (pid: number, entry: string) => boolean = environHas,
): Members {
  const marker = `${INSTANCE_VAR}=${instance}`;
  const leader = procs.byPid.get(session.sid);
  const inSession = [...(procs.bySid.get(session.sid) ?? [])];
  if (leader && session.startTime !== null) {
    if (leader.startTime !== session.startTime || leader.session !== session.sid) return { pids: [], recycled: true };
    if (hasEnv(leader.pid, marker)) {
      return { pids: inSession.sort((a, b) => (a.pid === session.sid ? -1 : b.pid === session.sid ? 1 : 0)), recycled: false };
    }
  }
  // No verified leader: each member must prove itself.
  const pids = inSession.filter((p) => (session.startTime === null || p.startTime >= session.startTime) && hasEnv(p.pid, marker));
  return { pids, recycled: false };
}

/** Whether `p` is still the same process (pid and start time) right before it is signalled. */
export function stillSame(p: ProcStat, now: ProcStat | null): boolean {
  return now !== null && now.startTime === p.startTime && isLive(now);
}
