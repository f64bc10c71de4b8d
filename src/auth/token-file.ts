// The token file: the only code that reads or writes $XDG_CONFIG_HOME/tether/auth-tokens.json.
//
// Invariants: the file holds hashes, never secrets; it is 0600 in a 0700 directory; every change is
// read-modify-write under a lock with an atomic temp-file + fsync + rename write, so a crash or a
// concurrent CLI never leaves a torn or lossy file; a file that is invalid is never overwritten and
// never treated as empty.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StoreError, errorMessage } from '../errors.js';
import { configDir } from '../paths.js';
import { TOKEN_FILE_VERSION, emptyTokenFile, validateTokenFile, type TokenFile } from './token-record.js';
import { withFileLock, writePrivateFileAtomic } from '../fs/atomic-json.js';
import { settle, takesAway } from './revocation.js';

export const TOKEN_FILE_NAME = 'auth-tokens.json';

export function tokenFilePath(): string {
  return path.join(configDir(), TOKEN_FILE_NAME);
}

export type Warn = (message: string) => void;
const stderrWarn: Warn = (m) => process.stderr.write(`warning: ${m}\n`);

function parseOrThrow(file: string, text: string): TokenFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`token file ${file} is not valid JSON (${errorMessage(err)}); it was left untouched. Fix it or move it aside.`, 'token_file_invalid');
  }
  const problem = validateTokenFile(data);
  if (problem) throw new StoreError(`token file ${file} is invalid: ${problem}; it was left untouched.`, 'token_file_invalid');
  return data as TokenFile;
}

function readError(file: string, err: unknown): StoreError {
  return new StoreError(`cannot read token file ${file}: ${errorMessage(err)}`, 'token_file_unreadable');
}

function warnIfLoose(file: string, mode: number, warn: Warn): void {
  if (mode & 0o077) {
    warn(`${file} is accessible by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it will be set to 0600 on the next change`);
  }
}

export interface Snapshot {
  data: TokenFile;
  /** Identity of the file version read (inode, size, mtime), or null when the file does not exist. */
  stamp: string | null;
}

function stampOf(st: fs.BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** Reads and validates the file. A missing file is an empty store; anything else invalid throws. */
export async function readTokenFile(file = tokenFilePath(), warn: Warn = stderrWarn): Promise<TokenFile> {
  let text: string;
  try {
    const handle = await fsp.open(file, 'r');
    try {
      const st = await handle.stat();
      warnIfLoose(file, st.mode, warn);
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyTokenFile();
    throw readError(file, err);
  }
  return parseOrThrow(file, text);
}

/** Synchronous read with the version stamp, for the server's live view. */
export function readTokenFileSync(file: string, warn: Warn = stderrWarn): Snapshot {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data: emptyTokenFile(), stamp: null };
    throw readError(file, err);
  }
  try {
    // Stat and read through one descriptor so the stamp describes exactly the bytes parsed.
    const st = fs.fstatSync(fd, { bigint: true });
    warnIfLoose(file, Number(st.mode), warn);
    const text = fs.readFileSync(fd, 'utf8');
    return { data: parseOrThrow(file, text), stamp: stampOf(st) };
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw readError(file, err);
  } finally {
    fs.closeSync(fd);
  }
}

/** Cheap check of the file's current identity (one stat). */
export function currentStamp(file: string): string | null {
  try {
    return stampOf(fs.statSync(file, { bigint: true }));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw readError(file, err);
  }
}

export interface UpdateOptions {
  warn?: Warn;
  /** How long to keep retrying a held lock before giving up (ms). */
  lockWaitMs?: number;
}

/**
 * Read-modify-write under the file lock. `mutate` gets a fresh, validated copy and returns the new
 * contents plus a result; if it throws, nothing is written. An invalid existing file aborts the update.
 */
export async function updateTokenFile<T>(
  file: string,
  mutate: (data: TokenFile) => { data: TokenFile; result: T } | Promise<{ data: TokenFile; result: T }>,
  opts: UpdateOptions = {},
): Promise<T> {
  const { result, revoked } = await withFileLock(
    file,
    async () => {
      const current = await readTokenFile(file, opts.warn);
      const { data, result } = await mutate(structuredClone(current));
      // Every write is the current version (a version 1 file is upgraded by its next change).
      data.version = TOKEN_FILE_VERSION;
      const problem = validateTokenFile(data);
      if (problem) throw new Error(`refusing to write an invalid token file: ${problem}`);
      await writePrivateFileAtomic(file, JSON.stringify(data, null, 2) + '\n', 'token file');
      return { result, revoked: takesAway(current, data) };
    },
    { what: 'token file', lockWaitMs: opts.lockWaitMs },
  );
  // Outside the lock (other writers need not wait too): a revocation returns only once every
  // server's view of the file is sure to have been re-checked (revocation.ts).
  if (revoked) await settle();
  return result;
}
