import fs from 'node:fs';

/** Whether `pid` is a live process. process.kill(pid, 0) succeeds for zombies too; a zombie (only
 * awaiting its reaper) counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Format: "pid (comm) S ..."; comm may contain spaces or parentheses, so look after the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
