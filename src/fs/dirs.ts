import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { O_DIR, changed, fdRef, hasProcFd, notDirectory, notFound, pathError, verifyHandle, type PlaceMode, type Root } from './confine.js';
import { idOf } from './reserved.js';

// Directories opened and verified inside a Root, for listing and writing (see confine.ts for the idea).
//
// A directory is opened (O_DIRECTORY|O_NOFOLLOW) and its handle verified like a file handle. On
// Linux every later step goes *through that descriptor* (/proc/self/fd/N/name, the moral
// equivalent of mkdirat/openat/renameat/unlinkat), so swapping the directory's path for a symlink
// after the check changes nothing: the descriptor still is the verified directory. Without /proc
// the verified real path is used and the directory's identity (dev/ino, real path) is checked again
// right before each step that changes something (`reverify`), which narrows the window to that step.

export interface OpenedDir {
  handle: FileHandle;
  real: string;
  /** Path that reaches this very directory (see fdRef). */
  ref: string;
  id: string;
}

/** Opens `p` (a real path, or a path through a verified descriptor) as a directory and verifies it. */
export async function openDirAt(root: Root, p: string, input: string, mode: PlaceMode = {}): Promise<OpenedDir> {
  const handle = await fsp.open(p, O_DIR).catch((err) => {
    const code = (err as NodeJS.ErrnoException).code;
    return Promise.reject(code === 'ENOTDIR' ? notDirectory(input) : pathError(err, input, true));
  });
  try {
    const st = await handle.stat({ bigint: true });
    if (!st.isDirectory()) throw notDirectory(input);
    const real = await verifyHandle(root, handle.fd, p, input, mode);
    return { handle, real, ref: fdRef(handle.fd, real), id: idOf(st) };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** Without /proc, operations go by path: check the directory is still the one opened. */
export async function reverify(dir: OpenedDir, input: string): Promise<void> {
  if (hasProcFd()) return;
  const st = await fsp.lstat(dir.real, { bigint: true }).catch(() => null);
  const real = await fsp.realpath(dir.real).catch(() => null);
  if (!st || !st.isDirectory() || idOf(st) !== dir.id || real !== dir.real) throw changed(input);
}

export interface OpenedParent {
  dir: OpenedDir;
  /** The directories created on the way, outermost first (to undo on failure). */
  created: CreatedDir[];
}

/** A directory openParent made: its real path and its identity (dev:ino) when opened. */
export interface CreatedDir {
  real: string;
  id: string;
}

/**
 * The deepest existing directory on the way to `dirReal` (inside the root), opened and verified,
 * then each missing level created and opened through the one above it (when `create`).
 */
export async function openParent(root: Root, dirReal: string, input: string, create: boolean): Promise<OpenedParent> {
  const missing: string[] = [];
  let base = dirReal;
  for (;;) {
    const st = await fsp.lstat(base).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      return Promise.reject(pathError(err, input));
    });
    if (st?.isDirectory()) break;
    if (st?.isSymbolicLink()) throw changed(input);
    if (st) throw new UsageError(`a parent of ${JSON.stringify(input)} is not a directory`, 'not_directory');
    if (!create) throw notFound(input);
    missing.unshift(path.basename(base));
    if (base === root.real) throw notFound(input);
    base = path.dirname(base);
  }
  let dir = await openDirAt(root, base, input);
  const created: CreatedDir[] = [];
  try {
    for (const name of missing) {
      const p = path.join(dir.ref, name);
      await reverify(dir, input);
      const made = await fsp.mkdir(p).then(
        () => true,
        (err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? false : Promise.reject(pathError(err, input))),
      );
      if (made) {
        // Its identity now, before anything else can be put in its place, to undo only what was made.
        const st = await fsp.lstat(p, { bigint: true }).catch(() => null);
        created.push({ real: path.join(dir.real, name), id: st?.isDirectory() ? idOf(st) : '' });
      }
      const next = await openDirAt(root, p, input);
      await dir.handle.close();
      dir = next;
    }
    return { dir, created };
  } catch (err) {
    await dir.handle.close();
    await removeCreated(created);
    throw err;
  }
}

/**
 * Undoes `openParent`'s directories, deepest first, errors ignored. Only empty ones go (rmdir), and
 * only while the path still names the directory made: one put in its place meanwhile (a rename, a
 * swap) is someone else's and stays.
 */
export async function removeCreated(created: readonly CreatedDir[]): Promise<void> {
  for (const d of [...created].reverse()) {
    const st = await fsp.lstat(d.real, { bigint: true }).catch(() => null);
    if (st?.isDirectory() && idOf(st) === d.id) await fsp.rmdir(d.real).catch(() => {});
  }
}
