import { createHash, randomBytes } from 'node:crypto';
import fs, { type BigIntStats } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ForbiddenError, TetherError, UsageError } from '../errors.js';
import {
  O_READ,
  changed,
  checkInput,
  checkPin,
  isDirectory,
  isInside,
  locate,
  notFound,
  notRegular,
  outside,
  pathError,
  reserved,
  type Root,
} from './confine.js';
import { openParent, removeCreated, reverify, type OpenedDir } from './dirs.js';
import { checkPrecondition, type Precondition } from './etag.js';

// Writing and deleting one file inside a Root: atomic, confined, serialized per file.
//
// A write never touches the file in place: the content goes to a new temp file beside it (created
// O_CREAT|O_EXCL|O_NOFOLLOW through the verified parent directory, see dirs.ts), every byte
// written, fsynced, then renamed over the name, and the directory fsynced. A reader sees the old
// file or the new one, never a mix; a full disk, a file-size limit or a crash mid-write leaves the
// old file as it was. On any failure the temp file is removed; only a process killed mid-write
// leaves one, named `.tether-<pid>-<random>.tmp`, which the next write in that directory removes
// once its process is gone.
//
// A replaced file keeps its permission bits (never setuid/setgid: a write must not produce a
// privileged program) and, when the server runs as root, its owner. A file the server may not
// write (mode 0444, another user's) is refused rather than replaced behind its owner's back.
//
// Writes and deletes of one file by this process are serialized, and a precondition (If-Match) is
// checked inside that turn, so of two writers holding the same version exactly one wins. Writers
// outside the process (an editor, a build) are not locked out: the file's identity is checked again
// right before the rename, which narrows that window to the rename itself.

/** Files above this size have no entity tag (the file API reads and writes at most this much). */
export const FILE_MAX_BYTES = 1024 * 1024;

const TEMP = /^\.tether-(\d+)-[0-9a-f]{12}\.tmp$/;
const O_CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export interface WriteResult {
  /** Real path of the file written. */
  real: string;
  created: boolean;
  etag: string;
  size: number;
}

// --- one turn at a time per file (by real path) ---

const turns = new Map<string, Promise<void>>();

export async function withFileTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = turns.get(key) ?? Promise.resolve();
  let done!: () => void;
  const mine = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
  turns.set(key, mine);
  await previous;
  try {
    return await fn();
  } finally {
    done();
    if (turns.get(key) === mine) turns.delete(key);
  }
}

// --- errors a write can meet, each a 4xx/5xx that says the file was not changed ---

function writeError(err: unknown, input: string): Error {
  if (err instanceof TetherError) return err;
  const q = JSON.stringify(input);
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new TetherError('no_space', `no space left on the device (or quota exceeded) while writing ${q}; the file was not changed`, 507);
    case 'EFBIG':
      return new TetherError('file_size_limit', `the file system (or the server's file size limit) refused the size of ${q}; the file was not changed`, 507);
    case 'EROFS':
      return new ForbiddenError(`${q} is on a read-only file system; nothing was changed`, 'read_only_file_system');
    case 'EISDIR':
      return isDirectory(input);
    default:
      return pathError(err, input);
  }
}

const symlinkRefused = (input: string) =>
  new UsageError(
    `${JSON.stringify(input)} is a symbolic link that points to nothing (or it was just replaced by one); ` +
      'a symlink is written through only when its target exists inside the project: name the target instead',
    'symlink_not_followed',
  );

// --- the file's current state ---

const sameFile = (a: BigIntStats, b: BigIntStats) =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/** The entity tag of the regular file at `p` (which `st` described), or null above FILE_MAX_BYTES. */
async function currentTag(p: string, st: BigIntStats, input: string): Promise<string | null> {
  if (st.size > BigInt(FILE_MAX_BYTES)) return null;
  const fh = await fsp.open(p, O_READ).catch((err) => Promise.reject(pathError(err, input, true)));
  try {
    const hst = await fh.stat({ bigint: true });
    if (!hst.isFile() || hst.dev !== st.dev || hst.ino !== st.ino) throw changed(input);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(64 * 1024);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > FILE_MAX_BYTES) return null;
      hash.update(buf.subarray(0, bytesRead));
    }
    return `"${hash.digest('base64url')}"`;
  } finally {
    await fh.close();
  }
}

async function lstatOrNull(p: string, input: string): Promise<BigIntStats | null> {
  return fsp.lstat(p, { bigint: true }).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(pathError(err, input))));
}

/** Temp files of writers that were killed mid-write (their process is gone). Ours are never touched. */
async function removeStaleTemps(dir: OpenedDir): Promise<void> {
  const names = await fsp.readdir(dir.ref).catch(() => [] as string[]);
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || !processGone(Number(m[1]))) continue;
    await fsp.unlink(path.join(dir.ref, name)).catch(() => {});
  }
}

function processGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Makes the rename (or unlink) durable. Best effort: not every file system can fsync a directory. */
async function syncDir(dir: OpenedDir): Promise<void> {
  await dir.handle.sync().catch(() => {});
}

// --- write ---

/**
 * Writes `content` to the file `input` atomically (see above). A symlink as the last component is
 * written through when its target is a file inside the root (the target is replaced, the link
 * stays); a symlink out is 403, a dangling one 400. `createParents`: make missing directories, each
 * created and verified inside the root (and removed again if the write fails).
 */
export async function writeFileConfined(
  root: Root,
  input: string,
  content: string | Buffer,
  opts: { createParents: boolean; precondition?: Precondition },
): Promise<WriteResult> {
  await checkPin(root);
  const real = await locate(root, input);
  if (real === root.real) throw new UsageError('path must name a file, not the directory itself', 'is_directory');
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return withFileTurn(real, async () => {
    const { dir, created: made } = await openParent(root, path.dirname(real), input, opts.createParents);
    let ok = false;
    try {
      const name = path.basename(real);
      const r = await writeIn(dir, name, input, data, opts.precondition ?? {});
      ok = true;
      return { real: path.join(dir.real, name), ...r };
    } finally {
      await dir.handle.close();
      if (!ok) await removeCreated(made);
    }
  });
}

async function writeIn(dir: OpenedDir, name: string, input: string, data: Buffer, pre: Precondition): Promise<Omit<WriteResult, 'real'>> {
  const target = path.join(dir.ref, name);
  const existing = await lstatOrNull(target, input);
  if (existing?.isDirectory()) throw isDirectory(input);
  if (existing?.isSymbolicLink()) throw symlinkRefused(input);
  if (existing && !existing.isFile()) throw notRegular(input);
  const conditional = pre.ifMatch !== undefined || pre.ifNoneMatch !== undefined;
  if (conditional) checkPrecondition(pre, existing !== null, existing ? await currentTag(target, existing, input) : null);
  if (existing) {
    await fsp.access(target, fs.constants.W_OK).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EACCES' && err.code !== 'EPERM') return Promise.reject(writeError(err, input));
      const mode = (Number(existing.mode) & 0o777).toString(8).padStart(4, '0');
      return Promise.reject(new ForbiddenError(`${JSON.stringify(input)} is read-only for the server (mode ${mode}); it was not changed`, 'file_read_only'));
    });
  }
  await removeStaleTemps(dir);

  const tmp = path.join(dir.ref, `.tether-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
  await reverify(dir, input);
  // A new file gets the usual 0666 minus the umask; a replaced one its own bits, set below.
  const fh = await fsp.open(tmp, O_CREATE, existing ? 0o600 : 0o666).catch((err) => Promise.reject(writeError(err, input)));
  try {
    try {
      if (existing) {
        if (process.getuid?.() === 0) await fh.chown(Number(existing.uid), Number(existing.gid));
        await fh.chmod(Number(existing.mode) & 0o777);
      }
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await reverify(dir, input);
    if (conditional) {
      // Changed by someone outside this process since it was checked: their version stays.
      const now = await lstatOrNull(target, input);
      if (existing ? !now || !sameFile(now, existing) : now !== null) {
        checkPrecondition(pre, now !== null, now?.isFile() ? await currentTag(target, now, input) : null);
      }
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.unlink(tmp).catch(() => {});
    throw writeError(err, input);
  }
  await syncDir(dir);
  return { created: existing === null, etag: `"${createHash('sha256').update(data).digest('base64url')}"`, size: data.length };
}

// --- delete ---

/** Real parent directory and name of `input`, the last component not resolved (it may be a symlink). */
async function locateEntry(root: Root, input: string): Promise<{ parent: string; name: string }> {
  checkInput(input);
  const lexical = path.resolve(root.real, input === '' ? '.' : input);
  if (!isInside(root.real, lexical)) throw outside(input);
  if (lexical === root.real) throw new UsageError('path must name a file, not the project directory itself', 'is_directory');
  const parent = await locate(root, path.dirname(lexical)).catch((err: unknown) => {
    // Name the path as the caller gave it, not its parent.
    const code = err instanceof TetherError ? err.code : '';
    if (code === 'path_outside_root') throw outside(input, 'resolves (through a symlink)');
    if (code === 'path_reserved') throw reserved(input);
    throw err;
  });
  return { parent, name: path.basename(lexical) };
}

/**
 * Removes one regular file. Not a directory (400 is_directory), not a symlink (400: the link is
 * not what the API manages, and following it would remove a file under another name), never a
 * reserved path, and with a precondition, only the version it names.
 */
export async function deleteFileConfined(root: Root, input: string, opts: { precondition?: Precondition } = {}): Promise<{ real: string }> {
  await checkPin(root);
  const { parent, name } = await locateEntry(root, input);
  const real = path.join(parent, name);
  if (await root.reserved.isReserved(real, root.real)) throw reserved(input);
  return withFileTurn(real, async () => {
    const { dir } = await openParent(root, parent, input, false);
    try {
      const target = path.join(dir.ref, name);
      const st = await lstatOrNull(target, input);
      if (!st) throw notFound(input);
      if (st.isDirectory()) throw new UsageError(`${JSON.stringify(input)} is a directory; DELETE /file removes one regular file`, 'is_directory');
      if (st.isSymbolicLink()) throw new UsageError(`${JSON.stringify(input)} is a symbolic link; DELETE /file removes regular files only`, 'is_symlink');
      if (!st.isFile()) throw notRegular(input);
      const pre = opts.precondition ?? {};
      if (pre.ifMatch !== undefined || pre.ifNoneMatch !== undefined) checkPrecondition(pre, true, await currentTag(target, st, input));
      await reverify(dir, input);
      const now = await lstatOrNull(target, input);
      if (!now || !sameFile(now, st)) throw changed(input);
      await fsp.unlink(target).catch((err) => Promise.reject(writeError(err, input)));
      await syncDir(dir);
      return { real: path.join(dir.real, name) };
    } finally {
      await dir.handle.close();
    }
  });
}
