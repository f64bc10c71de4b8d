// The verification rule on its own, over made-up process tables.
import { describe, expect, it } from 'vitest';
import { indexProcs, verifiedMembers as verify } from '../../src/proc/members.js';
import type { ProcStat } from '../../src/proc/procfs.js';

const p = (pid: number, session: number, startTime: number, state = 'S'): ProcStat => ({ pid, state, ppid: 1, pgrp: session, session, startTime });
const verifiedMembers = (s: Parameters<typeof verify>[0], i: string, procs: ProcStat[], env: Parameters<typeof verify>[3]) =>
  verify(s, i, indexProcs(procs), env);
const marked = (pids: number[]) => (pid: number, entry: string) => entry === 'TETHER_INSTANCE=ours' && pids.includes(pid);

describe('verifiedMembers', () => {
  it('takes the whole session, leader first, when the leader is the recorded, marked process; zombies are skipped', () => {
    const procs = [p(12, 10, 600), p(10, 10, 500), p(11, 10, 550, 'Z'), p(13, 99, 600)];
    // Only the leader needs the marker: its whole session is ours.
    expect(verifiedMembers({ sid: 10, startTime: 500 }, 'ours', procs, marked([10]))).toEqual({ pids: [procs[1], procs[0]], recycled: false });
  });

  it('does not take an unmarked leader on the word of a record alone (a forged file naming any session)', () => {
    const procs = [p(10, 10, 500), p(11, 10, 550), p(12, 10, 560)];
    expect(verifiedMembers({ sid: 10, startTime: 500 }, 'ours', procs, () => false)).toEqual({ pids: [], recycled: false });
    // A leader that replaced its environment: its marked members still go, it stays.
    expect(verifiedMembers({ sid: 10, startTime: 500 }, 'ours', procs, marked([12])).pids).toEqual([procs[2]]);
  });

  it('takes nothing when the leader pid belongs to another process (recycled), whatever the markers say', () => {
    const procs = [p(10, 10, 900), p(11, 10, 950)];
    expect(verifiedMembers({ sid: 10, startTime: 500 }, 'ours', procs, marked([10, 11]))).toEqual({ pids: [], recycled: true });
  });

  it('with the leader gone, takes only marked members that started after the leader', () => {
    const procs = [p(11, 10, 550), p(12, 10, 560), p(13, 10, 400)];
    const r = verifiedMembers({ sid: 10, startTime: 500 }, 'ours', procs, marked([11, 13]));
    expect(r).toEqual({ pids: [procs[0]], recycled: false });
  });

  it('with no recorded start time, every process (leader included) must carry the marker', () => {
    const procs = [p(10, 10, 500), p(11, 10, 550)];
    expect(verifiedMembers({ sid: 10, startTime: null }, 'ours', procs, marked([11])).pids).toEqual([procs[1]]);
  });
});
