// The lock rotation happens under, shared by every process that writes the audit log (the server,
// the CLI, a second server). A kernel lock, as for the token file (src/fs/atomic-json.ts): SQLite's
// fcntl lock on `<file>.lock`, through better-sqlite3, released the instant its holder dies, so there
// is no stale lock to take over. Synchronous, because a line is written before the request goes on;
// rotation is rare (once per maxBytes) and holds the lock for a few renames.
import { createRequire } from 'node:module';
import fs from 'node:fs';

type Database = import('better-sqlite3').Database;
type DatabaseConstructor = new (file: string, opts?: { timeout?: number }) => Database;

let loaded: DatabaseConstructor | undefined;

/** better-sqlite3, loaded on the first rotation only (the CLI writes a line without ever needing it). */
function sqlite(): DatabaseConstructor {
  loaded ??= createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
  return loaded;
}

/** How long a writer waits for another process's rotation (SQLite's busy timeout). */
const ROTATION_LOCK_WAIT_MS = 2000;

export function withRotationLock(lockPath: string, fn: () => void): void {
  // Created by us first: our mode, and a clear errno rather than SQLite's "unable to open".
  fs.closeSync(fs.openSync(lockPath, 'a', 0o600));
  const Db = sqlite();
  const db = new Db(lockPath, { timeout: ROTATION_LOCK_WAIT_MS });
  try {
    // Nothing is written to the lock file: no journal next to it.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
    try {
      fn();
    } finally {
      db.exec('ROLLBACK');
    }
  } finally {
    db.close();
  }
}
