import type { Dirent } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { openDirAt, reverify } from './dirs.js';
import { O_READ, changed, checkPin, isDirectory, locate, notDirectory, notRegular, pathError, verifyHandle, type Root } from './confine.js';

// Reading and listing inside a Root, race-free (see confine.ts for the idea; directories in
// dirs.ts). Writing and deleting are in write.ts, re-exported here for the agent's tools.
export { deleteFileConfined, writeFileConfined } from './write.js';

export interface OpenedFile {
  handle: FileHandle;
  /** Verified real path. */
  real: string;
  size: number;
}

/** Opens a regular file for reading. The caller closes the handle. */
export async function openFile(root: Root, input: string): Promise<OpenedFile> {
  await checkPin(root);
  const real = await locate(root, input);
  // A first look, so a device or FIFO is never opened at all; the handle is checked again below.
  const st = await fsp.lstat(real).catch((err) => Promise.reject(pathError(err, input)));
  if (st.isSymbolicLink()) throw changed(input);
  if (st.isDirectory()) throw isDirectory(input);
  if (!st.isFile()) throw notRegular(input);
  // O_NONBLOCK: a FIFO swapped in meanwhile opens at once (and fails the check) instead of blocking a thread.
  const handle = await fsp.open(real, O_READ).catch((err) => Promise.reject(pathError(err, input, true)));
  try {
    const hst = await handle.stat();
    if (hst.isDirectory()) throw isDirectory(input);
    if (!hst.isFile()) throw notRegular(input);
    return { handle, real: await verifyHandle(root, handle.fd, real, input), size: hst.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

export interface ListedEntry {
  name: string;
  real: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Regular files only. */
  size: number | null;
}

/**
 * The entries of a directory in `order`, at most `max`, without tether's reserved directories.
 * `total` counts every entry that is not reserved by name. For a scoped caller (root.place), the
 * directory may also be one on the way to a scope, and then only the entries inside a scope or on
 * the way to one are listed or counted: never a name outside.
 */
export async function listDirectory(
  root: Root,
  input: string,
  opts: { max: number; order: (a: Dirent, b: Dirent) => number },
): Promise<{ real: string; entries: ListedEntry[]; truncated: boolean; total: number }> {
  await checkPin(root);
  const way = { way: true };
  const real = await locate(root, input, way);
  const st = await fsp.lstat(real).catch((err) => Promise.reject(pathError(err, input)));
  if (st.isSymbolicLink()) throw changed(input);
  if (!st.isDirectory()) throw notDirectory(input);
  const dir = await openDirAt(root, real, input, way);
  try {
    const dirents = await fsp.readdir(dir.ref, { withFileTypes: true }).catch((err) => Promise.reject(pathError(err, input)));
    await reverify(dir, input);
    const place = root.place;
    const shown = (p: string) => place === undefined || place.contains(p) || place.leadsTo(p);
    const candidates = dirents
      .filter((d) => {
        const p = path.join(dir.real, d.name);
        return shown(p) && !root.reserved.matchesName(p);
      })
      .sort(opts.order);
    const entries: ListedEntry[] = [];
    let i = 0;
    let hidden = 0;
    for (; i < candidates.length && entries.length < opts.max; i++) {
      const d = candidates[i]!;
      let size: number | null = null;
      if (d.isDirectory() || d.isFile()) {
        const est = await fsp.lstat(path.join(dir.ref, d.name), { bigint: true }).catch(() => null);
        if (est?.isDirectory() && root.reserved.isReservedDir(est)) {
          hidden++;
          continue;
        }
        if (est?.isFile()) size = Number(est.size);
      }
      entries.push({ name: d.name, real: path.join(dir.real, d.name), type: typeOf(d), size });
    }
    return { real: dir.real, entries, truncated: i < candidates.length, total: candidates.length - hidden };
  } finally {
    await dir.handle.close();
  }
}

function typeOf(d: Dirent): ListedEntry['type'] {
  return d.isSymbolicLink() ? 'symlink' : d.isDirectory() ? 'directory' : d.isFile() ? 'file' : 'other';
}

/** Reads at most `max` bytes from the start (a file may grow after its size was checked). */
export async function readAtMost(handle: FileHandle, max: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(max);
  let n = 0;
  while (n < max) {
    const { bytesRead } = await handle.read(buf, n, max - n, n);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  return buf.subarray(0, n);
}
