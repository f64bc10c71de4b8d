import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp dir (real path), removed by the returned cleanup. */
export function tempDir(prefix = 'tether-session-'): { dir: string; cleanup: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `check` until it returns true; fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { isAlive } from '../helpers/proc.js';

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}
