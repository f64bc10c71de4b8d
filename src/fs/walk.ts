// Bounded project walk for the find endpoints: never follows symlinks (so it cannot leave the
// root), skips tether's reserved directories, VCS and dependency folders, and stops at a deadline
// or an entry budget.
//
// Each directory is opened (O_DIRECTORY|O_NOFOLLOW) and verified as a handle (inside the root, not
// reserved by name or identity) before it is read, and its entries are reached through that open
// descriptor (see fdRef), so swapping a directory on the way for a symlink leads nowhere.
// `readWalkedFile` opens a file the same way, O_NOFOLLOW|O_NONBLOCK, and reads it only if the
// handle is a regular file that really is the entry it was listed as: never stat-then-open, and a
// FIFO or socket is skipped without ever blocking a thread.
//
// For a scoped caller (root.place) the walk enters only the directories inside a scope or on the way
// to one, and yields only entries inside a scope: a search never names anything outside.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { O_DIR, O_READ, fdRef, handlePath, hasProcFd, isInside, type Root } from './confine.js';
import { readAtMost } from './io.js';

export const SKIP_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '.hg', '.svn']);

export interface WalkEntry {
  /** Real path (for checks; not for opening). */
  abs: string;
  rel: string;
  type: 'file' | 'directory';
  /** Opens this entry through its verified parent directory; valid only until the next entry. */
  ref: string;
}

export interface WalkLimits {
  deadline: number;
  maxEntries: number;
}

/** Yields entries breadth-first; `state.truncated` is set when a limit cut the walk short. */
export async function* walk(root: Root, limits: WalkLimits, state: { truncated: boolean }): AsyncGenerator<WalkEntry> {
  if (await root.reserved.isReserved(root.real, root.real)) return;
  const place = root.place;
  const shown = (p: string) => place === undefined || place.contains(p);
  const entered = (p: string) => shown(p) || place!.leadsTo(p);
  if (!entered(root.real)) return;
  const queue: { real: string; rel: string }[] = [{ real: root.real, rel: '' }];
  let seen = 0;
  while (queue.length > 0) {
    const dir = queue.shift()!;
    const handle = await fsp.open(dir.real, O_DIR).catch(() => null);
    if (!handle) continue; // gone, swapped for a symlink, unreadable: skip, do not fail the search
    try {
      const st = await handle.stat({ bigint: true });
      if (!st.isDirectory() || root.reserved.isReservedDir(st)) continue;
      // Moved or reached through a swapped parent since it was listed: not what was queued.
      const real = await handlePath(handle.fd, dir.real).catch(() => null);
      if (real !== dir.real || !isInside(root.real, real) || !entered(real)) continue;
      const ref = fdRef(handle.fd, real);
      const entries = await fsp.readdir(ref, { withFileTypes: true }).catch(() => null);
      if (!entries) continue;
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of entries) {
        if (++seen > limits.maxEntries || Date.now() > limits.deadline) {
          state.truncated = true;
          return;
        }
        const abs = path.join(real, e.name);
        if (root.reserved.matchesName(abs)) continue;
        const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
        const entryRef = path.join(ref, e.name);
        if (e.isDirectory()) {
          if (SKIP_DIRS.has(e.name) || !entered(abs)) continue;
          // Its identity is checked when it is opened, before anything inside it is read or named.
          queue.push({ real: abs, rel });
          if (shown(abs)) yield { abs, rel, type: 'directory', ref: entryRef };
        } else if (e.isFile() && shown(abs)) {
          yield { abs, rel, type: 'file', ref: entryRef };
        }
        // symlinks and special files are not followed
      }
    } finally {
      await handle.close();
    }
  }
}

/**
 * The content of a walked file, or null to skip it: not a regular file any more (a symlink, FIFO,
 * socket or directory swapped in), larger than `maxBytes`, moved, or unreadable.
 */
export async function readWalkedFile(root: Root, entry: WalkEntry, maxBytes: number): Promise<Buffer | null> {
  const handle = await fsp.open(entry.ref, O_READ).catch(() => null);
  if (!handle) return null;
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > maxBytes) return null;
    // Through /proc, the file was opened as a direct child (no slash, O_NOFOLLOW) of the verified
    // directory descriptor, so it is where the entry says; otherwise ask where it really is.
    if (!hasProcFd()) {
      const real = await handlePath(handle.fd, entry.abs).catch(() => null);
      if (real !== entry.abs || !isInside(root.real, real) || root.reserved.matchesName(real)) return null;
      if (root.place !== undefined && !root.place.contains(real)) return null;
    }
    return await readAtMost(handle, st.size);
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}
