// The web logins file, $XDG_DATA_HOME/tether/web-logins.json (0600): what lets a browser stay
// logged in across a server restart. It holds, per login, the SHA-256 of the cookie's login id and of
// the login key, the token id it stands for and its expiry: nothing that could be presented as a
// credential. Written under the shared lock with an atomic replace (fs/atomic-json.ts), as changes
// (added and removed logins) merged into what is on disk, so two servers sharing a data directory
// do not drop each other's logins.
//
// Fail closed: a file that does not parse or holds anything unexpected restores no login at all; it
// is moved aside (kept for inspection), and the caller logs it loudly.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StoreError, errorMessage } from '../errors.js';
import { withFileLock, writePrivateFileAtomic } from '../fs/atomic-json.js';
import { dataDir } from '../paths.js';
import { HASH_PATTERN, ID_PATTERN, isIsoDate } from './token-record.js';

export const WEB_LOGINS_FILE_NAME = 'web-logins.json';
const VERSION = 1;
/** More than this many logins in the file is not something tether wrote: refused like any corruption. */
export const MAX_STORED_LOGINS = 10_000;

export function webLoginsFilePath(): string {
  return path.join(dataDir(), WEB_LOGINS_FILE_NAME);
}

export interface StoredLogin {
  /** SHA-256 hex of the login id the cookie carries. */
  idHash: string;
  /** SHA-256 hex of the login key the page sends. */
  keyHash: string;
  tokenId: string;
  expiresAt: string;
}

const KEYS = ['idHash', 'keyHash', 'tokenId', 'expiresAt'];

/** Returns a problem description, or null when `data` is a valid web logins file. */
export function validateWebLoginsFile(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the top level is not a JSON object';
  const obj = data as Record<string, unknown>;
  if (Object.keys(obj).sort().join() !== 'logins,version') return 'it must have exactly the fields "version" and "logins"';
  if (obj.version !== VERSION) return `it has version ${JSON.stringify(obj.version)}; this tether understands only version ${VERSION}`;
  if (!Array.isArray(obj.logins)) return '"logins" is not an array';
  if (obj.logins.length > MAX_STORED_LOGINS) return `it holds more than ${MAX_STORED_LOGINS} logins`;
  const ids = new Set<string>();
  for (let i = 0; i < obj.logins.length; i++) {
    const l = obj.logins[i] as Record<string, unknown>;
    const where = `login #${i + 1}`;
    if (typeof l !== 'object' || l === null || Array.isArray(l)) return `${where} is not an object`;
    if (Object.keys(l).length !== KEYS.length || !KEYS.every((k) => k in l)) return `${where} must have exactly the fields ${KEYS.join(', ')}`;
    if (typeof l.idHash !== 'string' || !HASH_PATTERN.test(l.idHash)) return `${where} has an invalid "idHash"`;
    if (typeof l.keyHash !== 'string' || !HASH_PATTERN.test(l.keyHash)) return `${where} has an invalid "keyHash"`;
    if (typeof l.tokenId !== 'string' || !ID_PATTERN.test(l.tokenId)) return `${where} has an invalid "tokenId"`;
    if (!isIsoDate(l.expiresAt)) return `${where} has an invalid "expiresAt"`;
    if (ids.has(l.idHash)) return `${where} repeats a login id`;
    ids.add(l.idHash);
  }
  return null;
}

export type Loaded = { ok: true; logins: StoredLogin[]; looseMode?: string } | { ok: false; problem: string; movedTo: string | null };

/** Reads the file at start-up. Missing: no logins. Invalid: no logins, and the file moved aside. */
export function loadWebLoginsSync(file: string, now = Date.now()): Loaded {
  let text: string;
  let mode: number;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new Error('not a regular file');
      mode = st.mode;
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, logins: [] };
    return invalid(file, `cannot read it: ${errorMessage(err)}`, now);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return invalid(file, `it is not valid JSON (${errorMessage(err)})`, now);
  }
  const problem = validateWebLoginsFile(data);
  if (problem) return invalid(file, problem, now);
  const loose = mode & 0o077 ? (mode & 0o777).toString(8).padStart(4, '0') : undefined;
  return { ok: true, logins: (data as { logins: StoredLogin[] }).logins, ...(loose ? { looseMode: loose } : {}) };
}

function invalid(file: string, problem: string, now: number): Loaded {
  const aside = `${file}.invalid-${now}`;
  try {
    fs.renameSync(file, aside);
    return { ok: false, problem, movedTo: aside };
  } catch {
    return { ok: false, problem, movedTo: null };
  }
}

export interface LoginChanges {
  add: StoredLogin[];
  /** idHashes of logins that ended. */
  remove: ReadonlySet<string>;
  /** Token ids whose every login ended (the token was deleted or expired). */
  removeTokens: ReadonlySet<string>;
}

/** Merges changes into the file under its lock, dropping expired logins on the way. Returns the
 * problem when the file on disk had turned invalid (it was moved aside, its logins dropped), else null. */
export async function applyWebLoginChanges(file: string, changes: LoginChanges, now = Date.now()): Promise<string | null> {
  return withFileLock(
    file,
    async () => {
      const { logins: current, problem } = await readForUpdate(file, now);
      const added = new Set(changes.add.map((l) => l.idHash));
      const logins = current
        .filter((l) => !added.has(l.idHash) && !changes.remove.has(l.idHash) && !changes.removeTokens.has(l.tokenId))
        .concat(changes.add.filter((l) => !changes.remove.has(l.idHash) && !changes.removeTokens.has(l.tokenId)))
        .filter((l) => Date.parse(l.expiresAt) > now)
        .slice(-MAX_STORED_LOGINS);
      await writePrivateFileAtomic(file, JSON.stringify({ version: VERSION, logins }, null, 1) + '\n', 'web logins file');
      return problem;
    },
    { what: 'web logins file' },
  );
}

/** The file as it is now; one that turned invalid is moved aside and its logins are dropped (fail closed). */
async function readForUpdate(file: string, now: number): Promise<{ logins: StoredLogin[]; problem: string | null }> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { logins: [], problem: null };
    throw new StoreError(`cannot read the web logins file ${file}: ${errorMessage(err)}`, 'file_unreadable');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const problem = data === undefined ? 'it is not valid JSON' : validateWebLoginsFile(data);
  if (problem !== null) {
    const aside = `${file}.invalid-${now}`;
    const moved = await fsp.rename(file, aside).then(
      () => true,
      () => false,
    );
    return { logins: [], problem: `${problem}${moved ? `; moved aside to ${aside}` : ''}` };
  }
  return { logins: (data as { logins: StoredLogin[] }).logins, problem: null };
}

/** Last resort when a removal could not be written: no file, so no ended login can come back. */
export async function removeWebLoginsFile(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}
