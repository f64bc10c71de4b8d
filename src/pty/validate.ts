// Validation of client-supplied terminal options. Every message names the offending field and
// says what is accepted, because these reach API clients as 400 bodies.

import fs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ForbiddenError, TetherError, UsageError } from '../errors.js';
import { resolveInside } from '../fs/confine.js';
import type { Place } from '../fs/place.js';

import { MAX_ARGS, MAX_SIZE, MAX_STRING, MAX_TITLE, MIN_SIZE } from './shapes.js';

/** Control characters (C0, DEL, C1): they would let a title rewrite a viewer's screen. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A short rendering of a bad value for an error message (never a huge client string). */
function show(value: unknown): string {
  const s = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

export function checkSize(field: 'cols' | 'rows', value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_SIZE || value > MAX_SIZE) {
    throw new UsageError(`${field} must be an integer from ${MIN_SIZE} to ${MAX_SIZE}, got ${show(value)}`);
  }
  return value;
}

export function checkTitle(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_TITLE || CONTROL.test(value)) {
    throw new UsageError(`title must be a string of at most ${MAX_TITLE} characters without control characters`);
  }
  return value;
}

function checkString(field: string, value: unknown, allowEmpty: boolean): string {
  if (typeof value !== 'string') throw new UsageError(`${field} must be a string`);
  if (!allowEmpty && value === '') throw new UsageError(`${field} must not be empty`);
  if (value.includes('\0')) throw new UsageError(`${field} must not contain a NUL byte`);
  if (value.length > MAX_STRING) throw new UsageError(`${field} is too long (at most ${MAX_STRING} characters)`);
  return value;
}

export function checkArgs(value: unknown): string[] {
  if (!Array.isArray(value)) throw new UsageError('args must be an array of strings');
  if (value.length > MAX_ARGS) throw new UsageError(`args has too many items (at most ${MAX_ARGS})`);
  return value.map((a, i) => checkString(`args[${i}]`, a, true));
}

export function checkCommand(value: unknown): string {
  return checkString('command', value, false);
}

export function checkEnv(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('env must be an object mapping variable names to strings');
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    // execve takes "NAME=value": a name with '=' or NUL cannot be represented.
    if (key === '' || key.includes('=') || key.includes('\0')) {
      throw new UsageError(`env name ${JSON.stringify(key)} is invalid (non-empty, without "=" or NUL)`);
    }
    out[key] = checkString(`env.${key}`, v, true);
  }
  return out;
}

/** The project-confined (and `place`-confined) working directory; errors are re-thrown naming the `cwd` field. */
export async function resolveCwd(projectDir: string, input: unknown, place?: Place): Promise<string> {
  if (typeof input !== 'string') throw new UsageError('cwd must be a string');
  let real: string;
  try {
    real = await resolveInside(projectDir, input, place);
  } catch (err) {
    if (err instanceof ForbiddenError) throw new ForbiddenError(`cwd: ${err.message}`, err.code);
    if (err instanceof TetherError) throw new UsageError(`cwd: ${err.message}`, err.code);
    throw err;
  }
  let stat;
  try {
    stat = await fs.stat(real);
  } catch {
    throw new UsageError(`cwd "${input}" does not exist`);
  }
  if (!stat.isDirectory()) throw new UsageError(`cwd "${input}" is not a directory`);
  return real;
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where execvp(3) in the child would find `command`: with a `/` it is a path (relative to the
 * child's cwd), otherwise it is searched on the child's PATH. node-pty forks before exec, so a
 * bad command does not throw: the child prints "execvp(3) failed" and exits 1. Checking first
 * turns that into a clear 400 instead of a terminal that dies at once.
 */
export async function resolveCommand(command: string, cwd: string, env: Record<string, string>): Promise<string> {
  if (command.includes('/')) {
    const p = path.resolve(cwd, command);
    if (await isExecutableFile(p)) return p;
    throw new UsageError(`command "${command}" is not an executable file`);
  }
  // execvp's default search path when PATH is unset.
  const search = env.PATH ?? '/bin:/usr/bin';
  for (const dir of search.split(':')) {
    const p = path.resolve(cwd, dir === '' ? '.' : dir, command);
    if (await isExecutableFile(p)) return p;
  }
  throw new UsageError(`command "${command}" was not found on PATH`);
}
