// Bounded project walk for the find endpoints: never follows symlinks (so it cannot leave the
// root), skips VCS and dependency folders, and stops at a deadline or an entry budget.
import fs from 'node:fs/promises';
import path from 'node:path';

export const SKIP_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '.hg', '.svn']);

export interface WalkEntry {
  abs: string;
  rel: string;
  type: 'file' | 'directory';
}

export interface WalkLimits {
  deadline: number;
  maxEntries: number;
}

/** Yields entries breadth-first; `state.truncated` is set when a limit cut the walk short. */
export async function* walk(root: string, limits: WalkLimits, state: { truncated: boolean }): AsyncGenerator<WalkEntry> {
  const queue: string[] = [root];
  let seen = 0;
  while (queue.length > 0) {
    const dir = queue.shift()!;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable directory: skip, do not fail the search
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (++seen > limits.maxEntries || Date.now() > limits.deadline) {
        state.truncated = true;
        return;
      }
      const abs = path.join(dir, e.name);
      const rel = path.relative(root, abs).split(path.sep).join('/');
      if (e.isDirectory()) {
        if (SKIP_DIRS.has(e.name)) continue;
        queue.push(abs);
        yield { abs, rel, type: 'directory' };
      } else if (e.isFile()) {
        yield { abs, rel, type: 'file' };
      }
      // symlinks and special files are not followed
    }
  }
}
