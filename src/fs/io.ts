import { randomBytes } from 'node:crypto';
import fs, { type Dirent } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import {
  O_DIR,
  O_READ,
  changed,
  checkPin,
  fdRef,
  hasProcFd,
  isDirectory,
  locate,
  notDirectory,
  notFound,
  notRegular,
  pathError,
  verifyHandle,
  type PlaceMode,
  type Root,
} from './confine.js';
import { idOf } from './reserved.js';

// Reading, listing and writing inside a Root, race-free (see confine.ts for the idea).
//
// Writes: the parent directory is opened (O_DIRECTORY|O_NOFOLLOW) and verified like a file handle.
// On Linux every later step goes *through that descriptor* (/proc/self/fd/N/name, the moral
// equivalent of mkdirat/openat/renameat): missing directories are created one level at a time and
// each is opened and verified in turn; the content goes to a new temp file created with
// O_CREAT|O_EXCL|O_NOFOLLOW (never an existing file, never through a symlink), is fsynced, and is
// renamed over the name. Swapping the directory's path for a symlink after the check changes
// nothing: the descriptor still is the verified directory. Without /proc the verified real path is
// used and the directory's identity (dev/ino, real path) is checked again right before the rename,
// which narrows the window to that last step.

export interface OpenedFile {
  handle: FileHandle;
  /** Verified real path. */
  real: string;
  size: number;
}

interface OpenedDir {
  handle: FileHandle;
  real: string;
  /** Path that reaches this very directory (see fdRef). */
  ref: string;
  id: string;
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

/** Opens `p` (a real path, or a path through a verified descriptor) as a directory and verifies it. */
async function openDirAt(root: Root, p: string, input: string, mode: PlaceMode = {}): Promise<OpenedDir> {
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
async function reverify(dir: OpenedDir, input: string): Promise<void> {
  if (hasProcFd()) return;
  const st = await fsp.lstat(dir.real, { bigint: true }).catch(() => null);
  const real = await fsp.realpath(dir.real).catch(() => null);
  if (!st || !st.isDirectory() || idOf(st) !== dir.id || real !== dir.real) throw changed(input);
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

/**
 * The deepest existing directory on the way to `dirReal` (inside the root), opened and verified,
 * then each missing level created and opened through the one above it (when `create`).
 */
async function openParent(root: Root, dirReal: string, input: string, create: boolean): Promise<OpenedDir> {
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
  try {
    for (const name of missing) {
      const p = path.join(dir.ref, name);
      await fsp.mkdir(p).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(pathError(err, input))));
      await reverify(dir, input);
      const next = await openDirAt(root, p, input);
      await dir.handle.close();
      dir = next;
    }
    return dir;
  } catch (err) {
    await dir.handle.close();
    throw err;
  }
}

/**
 * Writes `content` to the file `input` atomically: a reader (an editor, a running build) never sees
 * a half-written file, and an existing file keeps its mode. Never follows a symlink out of the
 * root, never writes into a reserved directory. `createParents`: make missing directories.
 */
export async function writeFileConfined(
  root: Root,
  input: string,
  content: string | Buffer,
  opts: { createParents: boolean },
): Promise<{ real: string; created: boolean }> {
  await checkPin(root);
  const real = await locate(root, input);
  if (real === root.real) throw new UsageError('path must name a file, not the directory itself', 'is_directory');
  const dir = await openParent(root, path.dirname(real), input, opts.createParents);
  try {
    const name = path.basename(real);
    const target = path.join(dir.ref, name);
    const existing = await fsp.lstat(target).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(pathError(err, input))));
    if (existing?.isDirectory()) throw isDirectory(input);
    // A symlink here was swapped in after the check: the rename below replaces the link itself.
    if (existing && !existing.isFile() && !existing.isSymbolicLink()) throw notRegular(input);
    const mode = existing?.isFile() ? existing.mode & 0o7777 : 0o666; // new files: minus the umask
    const tmp = path.join(dir.ref, `.${name}.${randomBytes(6).toString('hex')}.tether-tmp`);
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    const fh = await fsp.open(tmp, flags, mode).catch((err) => Promise.reject(pathError(err, input)));
    try {
      try {
        await fh.writeFile(content);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await reverify(dir, input);
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
    return { real: path.join(dir.real, name), created: existing === null };
  } finally {
    await dir.handle.close();
  }
}
