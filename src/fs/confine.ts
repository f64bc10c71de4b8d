import fs from 'node:fs/promises';
import path from 'node:path';
import { ForbiddenError, UsageError } from '../errors.js';

// Confinement of client-supplied paths to a root directory (the project, or a session's directory).
// Both the lexical path and the real path (symlinks resolved) must stay inside the root, so
// `..`, absolute paths elsewhere and symlinks pointing out are all refused.

const MAX_PATH_LENGTH = 4096;

export function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '..');
}

/** Real path of the deepest existing ancestor of `p`, joined with the rest (for paths to be created). */
async function realpathAllowMissing(p: string): Promise<string> {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      const real = await fs.realpath(cur);
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

/**
 * Resolve `input` (relative to `root`, or absolute) to a real path inside `root`.
 * Throws UsageError for malformed input and ForbiddenError for anything that leaves the root.
 * The returned path may not exist (callers map ENOENT to 404).
 */
export async function resolveInside(root: string, input: string): Promise<string> {
  if (typeof input !== 'string') throw new UsageError('path must be a string');
  if (input.includes('\0')) throw new UsageError('path must not contain a NUL byte');
  if (input.length > MAX_PATH_LENGTH) {
    throw new UsageError(`path is too long (${input.length} characters; at most ${MAX_PATH_LENGTH})`);
  }
  const realRoot = await fs.realpath(root);
  const lexical = path.resolve(realRoot, input === '' ? '.' : input);
  if (!isInside(realRoot, lexical)) {
    throw new ForbiddenError(`path "${input}" is outside the allowed directory`, 'path_outside_root');
  }
  const real = await realpathAllowMissing(lexical);
  if (!isInside(realRoot, real)) {
    throw new ForbiddenError(`path "${input}" resolves (through a symlink) outside the allowed directory`, 'path_outside_root');
  }
  return real;
}

/** Path of `abs` relative to `root`, with `/` separators, for output. */
export function displayPath(root: string, abs: string): string {
  const rel = path.relative(root, abs);
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
