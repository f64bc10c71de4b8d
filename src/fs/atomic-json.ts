// Locked, atomic JSON file updates, shared by every private file tether writes (the token file,
// client credentials, server config). Read-modify-write happens under an exclusive lock; the new
// contents go to a temp file that is fully written, fsynced and renamed, so a crash or a concurrent
// writer never leaves a torn or lossy file.
//
// The lock is a kernel lock (SQLite's fcntl lock on `<file>.lock`, through better-sqlite3), so it
// is released the instant its holder dies, and there is no "stale lock" to take over. (A lock
// directory with a staleness timeout, as proper-lockfile does, lets two waiters that both saw the
// same stale lock both believe they hold the new one: a lost update that could revive a deleted
// token.) Within one process, callers are queued first, because SQLite's busy wait would block the
// event loop.
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
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

/** In-process queue per lock file: the tail of the chain of holders. */
const queues = new Map<string, Promise<void>>();

/**
 * Every connection that holds a lock, until it is released. Without this strong reference a holder
 * awaiting a promise that nothing else references becomes unreachable as a whole; the garbage
 * collector then finalizes its SQLite connection and the kernel lock goes with it while the holder
 * still believes it holds it (seen on Node 24).
 */
const held = new Set<import('better-sqlite3').Database>();

/** Runs `fn` holding the lock for `file` (the file itself need not exist). */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  const lockPath = `${file}.lock`;
  const previous = queues.get(lockPath) ?? Promise.resolve();
  let done!: () => void;
  const mine = previous.then(() => new Promise<void>((r) => (done = r)));
  queues.set(lockPath, mine);
  await previous;
  try {
    const dir = path.dirname(file);
    try {
      await ensurePrivateDir(dir);
    } catch (err) {
      throw new StoreError(`cannot create directory ${dir} for the ${opts.what}: ${errorMessage(err)}`, 'file_unwritable');
    }
    const release = await acquire(lockPath, file, opts);
    try {
      return await fn();
    } finally {
      release();
    }
  } finally {
    done();
    if (queues.get(lockPath) === mine) queues.delete(lockPath);
  }
}

async function acquire(lockPath: string, file: string, opts: LockOptions): Promise<() => void> {
  const fail = (err: unknown) => new StoreError(`cannot lock the ${opts.what} ${file}: ${errorMessage(err)}`, 'file_locked');
  // Create the lock file ourselves first: a clear errno (EACCES, EROFS, ENOSPC) beats SQLite's
  // "unable to open database file", and the mode is ours.
  try {
    await (await fsp.open(lockPath, 'a', 0o600)).close();
  } catch (err) {
    throw fail(err);
  }
  // Loaded lazily: read-only commands and the request path never need it. With require, not
  // import(): the CLI runs as a CommonJS bundle with a code cache (src/cli/code-cache.ts).
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (err) {
    throw fail(err);
  }
  const deadline = Date.now() + (opts.lockWaitMs ?? 30_000);
  for (;;) {
    try {
      // Nothing is ever written to the lock file: no journal next to it, so the directory need not
      // be writable. (Per connection, and it needs a shared lock: hence inside the retry loop.)
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
      held.add(db);
      return () => {
        try {
          db.exec('ROLLBACK');
        } finally {
          db.close();
          held.delete(db);
        }
      };
    } catch (err) {
      // Only a lock someone holds is worth waiting for; anything else will not go away.
      if ((err as { code?: string }).code === 'SQLITE_BUSY' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
        continue;
      }
      db.close();
      throw fail((err as { code?: string }).code === 'SQLITE_BUSY' ? new Error(`still held by another process after ${opts.lockWaitMs ?? 30_000} ms`) : err);
    }
  }
}

/**
 * Atomic replace: temp file (mode 0600, the old file's owner kept), every byte written, fsync,
 * rename, then fsync of the directory. Not `write-file-atomic`: it writes with a single write()
 * and ignores a short count, so on a nearly full disk it renamed a truncated file over the good one.
 * `FileHandle.writeFile` keeps writing until done and fails with ENOSPC/EFBIG instead.
 */
export async function writePrivateFileAtomic(file: string, text: string, what: string): Promise<void> {
  const target = await fsp.realpath(file).catch(() => file);
  const tmp = `${target}.tmp-${process.pid}-${process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex')}`;
  let handle: fsp.FileHandle | undefined;
  try {
    const old = await fsp.stat(target).catch(() => undefined);
    handle = await fsp.open(tmp, 'wx', 0o600);
    await handle.writeFile(text, 'utf8');
    await handle.chmod(0o600); // whatever the umask
    if (old && process.getuid?.() === 0) await handle.chown(old.uid, old.gid).catch(() => {}); // root editing a user's file
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fsp.unlink(tmp).catch(() => {});
    throw new StoreError(`cannot write the ${what} ${file}: ${errorMessage(err)}; the previous file was kept`, 'file_unwritable');
  }
  await fsyncDir(path.dirname(target));
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
