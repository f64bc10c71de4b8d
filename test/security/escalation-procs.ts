// Canary 1 of the escalation matrix: which processes the in-process test server has started.
// A snapshot is every process that descends from this process (ppid chain), belongs to a process
// group or session one of those created, or carries this run's environment marker (which catches a
// daemon that double-forked or called setsid and was re-parented away). Identity is (pid, start
// time), so a recycled pid is a new process.
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  start: number;
  comm: string;
  state: string;
}

/** Parses /proc/<pid>/stat; null if the process is gone. */
export function readStat(pid: number): ProcInfo | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), sid: Number(f[3]), start: Number(f[19]), comm, state: f[0] };
}

function allPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function environHas(pid: number, needle: Buffer): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/environ`).includes(needle);
  } catch {
    return false; // gone, or another user's process
  }
}

export const procKey = (p: ProcInfo) => `${p.pid}@${p.start}`;
export const describeProc = (p: ProcInfo) => `pid ${p.pid} (${p.comm}) ppid ${p.ppid} pgrp ${p.pgrp} sid ${p.sid} state ${p.state}`;

export interface ProcessWatch {
  /** The server's process tree now, keyed by procKey. */
  snapshot(): Map<string, ProcInfo>;
  /** Processes in `after` that were not in `before`. */
  diff(before: Map<string, ProcInfo>, after: Map<string, ProcInfo>): ProcInfo[];
}

/**
 * Watches the tree under `root` (default: this process, which runs the test server). `marker` is a
 * `NAME=value` string present in the environment every child inherits.
 */
export function processWatch(marker: string, root = process.pid): ProcessWatch {
  const needle = Buffer.from(`${marker}\0`);
  // Nothing started before this process can be its child: skip reading their environments.
  const rootStart = readStat(root)!.start;
  return {
    snapshot() {
      const procs = allPids()
        .map(readStat)
        .filter((p): p is ProcInfo => p !== null);
      const pids = new Set<number>([root]);
      const found = new Map<string, ProcInfo>();
      const add = (p: ProcInfo) => {
        found.set(procKey(p), p);
        pids.add(p.pid);
      };
      for (const p of procs) if (p.pid !== root && p.start >= rootStart && environHas(p.pid, needle)) add(p);
      // Closure: a child of, or a group/session led by, anything already found (or the root).
      for (let grew = true; grew;) {
        grew = false;
        for (const p of procs) {
          if (p.pid === root || pids.has(p.pid)) continue;
          if (pids.has(p.ppid) || (p.pgrp !== p.pid && pids.has(p.pgrp)) || (p.sid !== p.pid && pids.has(p.sid))) {
            add(p);
            grew = true;
          }
        }
      }
      return found;
    },
    diff(before, after) {
      return [...after.entries()].filter(([k]) => !before.has(k)).map(([, p]) => p);
    },
  };
}
