import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, TetherError, errorMessage } from '../errors.js';

// Opening the session database: private file modes, pragmas, and versioned schema migrations.

export type Db = Database.Database;

/** One schema step. Runs inside a transaction together with the `user_version` bump. */
export type Migration = (db: Db) => void;

/**
 * The schema history, oldest first: `user_version` N means the first N have been applied.
 * Append only; never edit a released step (a db already past it would not see the change).
 */
export const MIGRATIONS: readonly Migration[] = [
  // 1: sessions, messages, parts. Times are ISO 8601 UTC strings (they sort as text).
  (db) => {
    db.exec(`
      CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        title      TEXT NOT NULL,
        directory  TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE messages (
        id           TEXT PRIMARY KEY,
        session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        role         TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'shell')),
        token_id     TEXT,
        status       TEXT NOT NULL
                     CHECK (status IN ('pending', 'running', 'completed', 'error', 'aborted')),
        created_at   TEXT NOT NULL,
        completed_at TEXT,
        error        TEXT,
        UNIQUE (session_id, seq)
      ) STRICT;

      -- type is free text on purpose: the agent may add part types without a migration.
      CREATE TABLE parts (
        id         TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        type       TEXT NOT NULL,
        data       TEXT NOT NULL CHECK (json_valid(data)),
        UNIQUE (message_id, seq)
      ) STRICT;

      -- Restart recovery looks for unfinished messages.
      CREATE INDEX messages_unfinished ON messages(status) WHERE status IN ('pending', 'running');
    `);
  },
  // 2: the identity (`dev:ino`) of each session's directory, pinned at creation: a directory later
  // moved away or swapped for a symlink is refused. NULL for sessions made before this step; they
  // are pinned when the service first loads them.
  (db) => {
    db.exec('ALTER TABLE sessions ADD COLUMN directory_id TEXT');
  },
];

/**
 * Open (creating if needed) the database at `file` and bring its schema up to date.
 * The directory is created 0700 and the file (and its -wal/-shm companions) kept 0600: messages
 * hold commands and their output, which may include secrets.
 */
export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
  ensurePrivateDir(path.dirname(file));
  // Create the file ourselves first: SQLite would create it 0644 (less umask), and it gives the
  // -wal/-shm files the main file's mode, so starting at 0600 closes the window for all three.
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600));
  } catch (err) {
    throw new StoreError(`cannot create session database ${file}: ${errorMessage(err)}`);
  }

  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new StoreError(`cannot open session database ${file}: ${errorMessage(err)}`);
  }
  try {
    // WAL: readers never wait for the writer, and frequent small writes (streamed text) are cheap.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Off by default in SQLite, and a no-op inside a transaction, so set it here, per connection.
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, file, migrations);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodIfExists(f, 0o600);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof TetherError) throw err;
    // e.g. SQLITE_NOTADB: name the file so the user knows what to move aside.
    throw new StoreError(`session database ${file} cannot be used: ${errorMessage(err)}`);
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, file: string, migrations: readonly Migration[]): void {
  const found = schemaVersion(db);
  if (found > migrations.length) {
    throw new StoreError(
      `session database ${file} has schema version ${found}, but this tether knows versions up to ` +
        `${migrations.length}: it was written by a newer tether. Upgrade tether, or move the file aside.`,
      'store_version',
    );
  }
  // IMMEDIATE takes the write lock before reading the version, so two processes opening the same
  // file at once cannot both apply a step.
  const step = db.transaction((): boolean => {
    const v = schemaVersion(db);
    const migration = migrations[v];
    if (!migration) return false;
    migration(db);
    db.pragma(`user_version = ${v + 1}`);
    return true;
  });
  while (step.immediate()) {
    // one step per transaction, until none is left
  }
}

function ensurePrivateDir(dir: string): void {
  try {
    // `recursive` returns the first directory it created, or undefined if `dir` already existed.
    const created = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask; make it exact. An existing directory is left alone:
    // it may be one the user chose and set up on purpose.
    if (created !== undefined) fs.chmodSync(dir, 0o700);
  } catch (err) {
    throw new StoreError(`cannot create directory ${dir} for the session database: ${errorMessage(err)}`);
  }
}

function chmodIfExists(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
