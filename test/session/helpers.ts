import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp dir (real path), removed by the returned cleanup. */
export function tempDir(prefix = 'tether-session-'): { dir: string; cleanup: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export { waitFor } from '../helpers/wait.js';
export { isAlive } from '../helpers/proc.js';

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}
