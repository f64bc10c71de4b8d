// Locked, atomic JSON file updates, shared by every private file tether writes (the token file,
// client credentials, server config). Read-modify-write happens under a lock (`proper-lockfile`);
// the new contents go to a temp file that is fsynced and renamed (`write-file-atomic`), so a
// crash or a concurrent writer never leaves a torn or lossy file.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StoreError, errorMessage } from '../errors.js';

export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fsp.stat(dir);
  if (st.mode & 0o077) await fsp.chmod(dir, 0o700);
}

export interface LockOptions {
  /** How long to keep retrying a held lock before giving up (ms). */
  lockWaitMs?: number;
  /** Noun for messages, e.g. "token file". */
  what: string;
}

/** Runs `fn` holding the lock for `file` (the file itself need not exist). */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  // Loaded lazily: read-only commands and the request path never need them.
  const { default: lockfile } = await import('proper-lockfile');
  const dir = path.dirname(file);
  try {
    await ensurePrivateDir(dir);
  } catch (err) {
    throw new StoreError(`cannot create directory ${dir} for the ${opts.what}: ${errorMessage(err)}`, 'file_unwritable');
  }
  const waitMs = opts.lockWaitMs ?? 30_000;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false, // the file may not exist yet
      lockfilePath: `${file}.lock`,
      stale: 5_000, // a lock left by a killed process is taken over after this long
      update: 1_000,
      retries: { retries: Math.ceil(waitMs / 50), factor: 1, minTimeout: 20, maxTimeout: 80, randomize: true },
    });
  } catch (err) {
    throw new StoreError(`cannot lock the ${opts.what} ${file}: ${errorMessage(err)}`, 'file_locked');
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/** Atomic replace: temp file (mode 0600), fsync, rename, then fsync of the directory. */
export async function writePrivateFileAtomic(file: string, text: string, what: string): Promise<void> {
  const { default: writeFileAtomic } = await import('write-file-atomic');
  try {
    await writeFileAtomic(file, text, { mode: 0o600, fsync: true });
    await fsyncDir(path.dirname(file));
  } catch (err) {
    throw new StoreError(`cannot write the ${what} ${file}: ${errorMessage(err)}; the previous file was kept`, 'file_unwritable');
  }
}

/** Makes the rename itself durable. Best effort: not every filesystem allows fsync on a directory. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // ignore
  } finally {
    await handle?.close();
  }
}
