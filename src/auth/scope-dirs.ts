// `--scope DIR` for `tether auth token create`: each DIR must be an existing directory, and is stored
// as its absolute real path (symlinks resolved), which is what src/auth/scope.ts compares against.
// Every problem is a UsageError naming the argument, so nothing is written.
import fs from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { MAX_SCOPES, MAX_SCOPE_LENGTH } from './token-record.js';

export const SCOPE_ACCEPTED = 'an existing directory (relative to the current directory, or absolute)';

/** The real paths of `dirs`, in order, without repeats (two spellings of one directory are one scope). */
export async function resolveScopeDirs(dirs: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    const real = await resolveOne(dir, cwd);
    if (!out.includes(real)) out.push(real);
  }
  if (out.length > MAX_SCOPES) throw new UsageError(`--scope was given ${out.length} directories; a token has at most ${MAX_SCOPES} scopes`);
  return out;
}

async function resolveOne(dir: string, cwd: string): Promise<string> {
  const shown = JSON.stringify(dir);
  if (dir === '') throw new UsageError(`--scope needs a directory: ${SCOPE_ACCEPTED}`);
  if (dir.includes('\0')) throw new UsageError(`--scope ${shown} contains a NUL byte; give ${SCOPE_ACCEPTED}`);
  const abs = path.resolve(cwd, dir);
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch (err) {
    throw new UsageError(`--scope ${shown}: ${problem(err, abs)}; give ${SCOPE_ACCEPTED}`);
  }
  const st = await fs.stat(real).catch((err: unknown) => {
    throw new UsageError(`--scope ${shown}: ${problem(err, real)}; give ${SCOPE_ACCEPTED}`);
  });
  if (!st.isDirectory()) throw new UsageError(`--scope ${shown}: ${real} is not a directory; give ${SCOPE_ACCEPTED}`);
  if (real.length > MAX_SCOPE_LENGTH) throw new UsageError(`--scope ${shown}: its real path is longer than ${MAX_SCOPE_LENGTH} characters`);
  return real;
}

function problem(err: unknown, p: string): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return `${p} does not exist`;
    case 'ENOTDIR':
      return `a part of ${p} is not a directory`;
    case 'ELOOP':
      return `${p} is a symlink loop`;
    case 'EACCES':
    case 'EPERM':
      return `${p} cannot be reached (permission denied)`;
    default:
      return `${p} cannot be resolved (${(err as Error).message})`;
  }
}
