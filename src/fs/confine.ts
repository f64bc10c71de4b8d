import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, ForbiddenError, NotFoundError, UsageError } from '../errors.js';
import { outsideScope, type Place } from './place.js';
import { idOf, type ReservedPaths } from './reserved.js';

// Confinement of client-supplied paths to a root directory (the project, or a session's directory),
// shared by the file routes, the searches and the agent's file tools.
//
// Checking a path and then using it is a race: between the two, a file or a directory on the way
// can be swapped for a symlink to somewhere else. So a path is resolved and checked first (for
// clear errors), then opened with O_NOFOLLOW, and what counts is the *opened handle*: its type
// (fstat) and its real location (on Linux the link behind /proc/self/fd/N, which names where the
// open file really is, whatever happened to the path since; elsewhere fs.realpath of the path).
// A handle that turns out to be outside the root, or reserved, is closed unread.
// Writes use the same idea for directories (see dirs.ts and write.ts).
//
// A Root may carry a Place (a scoped token's directories, see place.ts): then every path is also
// checked against it, lexically first (so a path outside is refused before the file system is
// asked anything, and its existence never shows) and then by its real path and its opened handle,
// exactly like the root itself. Listings may enter the directories on the way to a scope
// (`way: true`); everything else must lie inside one.

const MAX_PATH_LENGTH = 4096;

/** The directory operations are confined to. */
export interface Root {
  /** Real path of the root directory. */
  readonly real: string;
  /** tether's own directories: never read, listed or written through a root. */
  readonly reserved: ReservedPaths;
  /**
   * `dev:ino` the directory at `real` must still be (a session's directory, pinned when the session
   * was created). Set: every operation refuses once `real` is some other directory or a symlink.
   */
  readonly pin?: string;
  /** Set for a scoped caller: nothing outside it is read, listed, searched or written. */
  readonly place?: Place;
}

/** How a path must relate to the root's Place: inside a scope, or (listings) also on the way to one. */
export interface PlaceMode {
  way?: boolean;
}

function placeAllows(place: Place | undefined, real: string, mode: PlaceMode): boolean {
  return place === undefined || place.contains(real) || (mode.way === true && place.leadsTo(real));
}

/**
 * Linux's /proc/self/fd/N: the real path of an open descriptor, and a path prefix that reaches
 * *that* directory (not whatever is at its old path now), like the *at() system calls.
 */
const procFd = { enabled: detectProcFd() };

function detectProcFd(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const fd = fs.openSync('/', fs.constants.O_RDONLY);
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === '/';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

export function hasProcFd(): boolean {
  return procFd.enabled;
}

/** Tests run the portable fallback too; never call this elsewhere. */
export function setProcFdForTests(enabled: boolean): void {
  procFd.enabled = enabled && detectProcFd();
}

/** A path that reaches the open directory `fd` (its real path without /proc: a smaller guarantee). */
export function fdRef(fd: number, realPath: string): string {
  return procFd.enabled ? `/proc/self/fd/${fd}` : realPath;
}

/** Where the open descriptor `fd` really is; `opened` is the path it was opened by (for the fallback). */
export async function handlePath(fd: number, opened: string): Promise<string> {
  if (!procFd.enabled) return fsp.realpath(opened);
  const p = await fsp.readlink(`/proc/self/fd/${fd}`);
  // Unlinked since it was opened: its old name means nothing now.
  if (p.endsWith(' (deleted)') && fs.fstatSync(fd).nlink === 0) throw changed(p);
  return p;
}

export const O_READ = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;
export const O_DIR = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '..');
}

/** Path of `abs` relative to `root`, with `/` separators, for output. */
export function displayPath(root: string, abs: string): string {
  const rel = path.relative(root, abs);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}

// --- errors: every way a path can be wrong is a 4xx with its own code, never a 500 ---

const quote = (input: string) => JSON.stringify(input);

export const outside = (input: string, how = '') =>
  new ForbiddenError(`path ${quote(input)} ${how ? `${how} ` : 'is '}outside the allowed directory`, 'path_outside_root');
export const reserved = (input: string) =>
  new ForbiddenError(
    `path ${quote(input)} is reserved: it is one of tether's own files (token, credentials, config, sessions database), which the file API never reads, lists or writes`,
    'path_reserved',
  );
export const notFound = (input: string) => new NotFoundError(`no such file or directory: ${input}`);
export const isDirectory = (input: string) => new UsageError(`${quote(input)} is a directory`, 'is_directory');
export const notDirectory = (input: string) => new UsageError(`${quote(input)} is not a directory`, 'not_directory');
export const notRegular = (input: string) =>
  new UsageError(`${quote(input)} is not a regular file (a FIFO, socket or device); only regular files are read or written`, 'not_regular_file');
export const loop = (input: string) => new UsageError(`${quote(input)} cannot be resolved: too many levels of symbolic links (a symlink loop)`, 'symlink_loop');
export const changed = (input: string) =>
  new ConflictError(`${quote(input)} changed while it was being opened (it was replaced, e.g. by a symlink); try again`, 'path_changed');
export const denied = (input: string) => new ForbiddenError(`permission denied: ${input}`, 'permission_denied');

/**
 * errno of a failed system call on `input` -> the typed error; anything unexpected is re-thrown
 * (a real fault, logged as a 500). `opening`: the path was just resolved without symlinks, so ELOOP
 * on an O_NOFOLLOW open means it was swapped for one.
 */
export function pathError(err: unknown, input: string, opening = false): Error {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return notFound(input);
    case 'ELOOP':
      return opening ? changed(input) : loop(input);
    case 'ENXIO': // open(2) on a socket
    case 'EOPNOTSUPP':
      return notRegular(input);
    case 'EACCES':
    case 'EPERM':
      return denied(input);
    case 'ENAMETOOLONG':
      return new UsageError(`path ${quote(input)} is too long for the file system`, 'name_too_long');
    default:
      return err as Error;
  }
}

export function checkInput(input: unknown): asserts input is string {
  if (typeof input !== 'string') throw new UsageError('path must be a string');
  if (input.includes('\0')) throw new UsageError('path must not contain a NUL byte');
  if (input.length > MAX_PATH_LENGTH) {
    throw new UsageError(`path is too long (${input.length} characters; at most ${MAX_PATH_LENGTH})`);
  }
}

/** Real path of the deepest existing ancestor of `p`, joined with the rest (for paths to be created). */
async function realpathAllowMissing(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      const real = await fsp.realpath(cur);
      return rest.length ? path.join(real, ...rest.reverse()) : real;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      const parent = path.dirname(cur);
      if (parent === cur) return p;
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** Lexical, then real-path confinement of `input` to `realRoot` (and to `place`, when set). */
async function resolveIn(realRoot: string, input: unknown, place?: Place, mode: PlaceMode = {}): Promise<string> {
  checkInput(input);
  const lexical = path.resolve(realRoot, input === '' ? '.' : input);
  if (!isInside(realRoot, lexical)) throw outside(input);
  if (!placeAllows(place, lexical, mode)) throw outsideScope(`path ${quote(input)}`, place!);
  const real = await realpathAllowMissing(lexical).catch((err) => Promise.reject(pathError(err, input)));
  if (!isInside(realRoot, real)) throw outside(input, 'resolves (through a symlink)');
  if (!placeAllows(place, real, mode)) throw outsideScope(`path ${quote(input)}`, place!, 'resolves (through a symlink)');
  return real;
}

/**
 * Resolve `input` (relative to `root`, or absolute) to a real path inside `root`.
 * Throws UsageError for malformed input and ForbiddenError for anything that leaves the root.
 * The returned path may not exist (callers map ENOENT to 404). For checking a directory argument
 * (a terminal's cwd, a session's directory); files are opened through `locate` and io.ts.
 */
export async function resolveInside(root: string, input: string, place?: Place): Promise<string> {
  return resolveIn(await fsp.realpath(root), input, place);
}

/**
 * `resolveInside` for a Root, refusing reserved paths and (for a scoped caller) paths outside its
 * scopes too. The first, advisory, check: every file route, search and agent tool passes here, and
 * a route that touches a file (read, write, delete) calls this or io.ts, never its own resolution.
 */
export async function locate(root: Root, input: string, mode: PlaceMode = {}): Promise<string> {
  const real = await resolveIn(root.real, input, root.place, mode);
  if (await root.reserved.isReserved(real, root.real)) throw reserved(input);
  return real;
}

/** Refuses once a pinned root directory has been moved away or replaced (by a symlink or another directory). */
export async function checkPin(root: Pick<Root, 'real' | 'pin'>): Promise<void> {
  if (root.pin === undefined) return;
  const st = await fsp.lstat(root.real, { bigint: true }).catch(() => null);
  if (!st || !st.isDirectory() || idOf(st) !== root.pin) {
    throw new ForbiddenError(
      `the directory ${root.real} was moved or replaced after it was pinned (when its session was created); ` +
        'nothing is read or written there any more: create a new session',
      'directory_replaced',
    );
  }
}

/**
 * The authoritative check of an open descriptor: it is really inside the root (and the root's
 * Place) and not reserved.
 * Returns its real path.
 */
export async function verifyHandle(root: Root, fd: number, opened: string, input: string, mode: PlaceMode = {}): Promise<string> {
  const real = await handlePath(fd, opened).catch((err) => Promise.reject(pathError(err, input, true)));
  if (!isInside(root.real, real)) throw outside(input, 'was swapped to point');
  if (!placeAllows(root.place, real, mode)) throw outsideScope(`path ${quote(input)}`, root.place!, 'was swapped to point');
  // Where it was expected, its ancestors were just checked by identity (`locate`); elsewhere, check them now.
  if (real === opened ? root.reserved.matchesName(real) : await root.reserved.isReserved(real, root.real)) throw reserved(input);
  return real;
}
