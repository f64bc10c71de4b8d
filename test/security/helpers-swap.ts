// A separate process that keeps swapping one path between a harmless thing and a dangerous one, so
// races against the server's (or the tools') checks run truly in parallel. It stops when its stdin
// closes (the test is done or died) or after `maxMs`, and reports how many swaps it made.
import { spawn } from 'node:child_process';

export type SwapMode =
  /** `target` alternates between a regular file holding `public` and a symlink to `danger` (a file). */
  | 'file-symlink'
  /** `target` alternates between a real directory and a symlink to `danger` (a directory). */
  | 'dir-symlink'
  /** `target` alternates between a regular file and a FIFO (no writer: opening it for reading blocks). */
  | 'file-fifo';

const SCRIPT = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const [mode, target, danger, publicText, maxMs] = process.argv.slice(1);
const deadline = Date.now() + Number(maxMs);
let stop = false;
process.stdin.on('end', () => (stop = true));
process.stdin.resume();
const tmp = (tag) => path.join(path.dirname(target), '.swap-' + tag + '-' + process.pid);
let swaps = 0;
let fifos = [];
const nextFifo = () => {
  if (fifos.length === 0) {
    const names = Array.from({ length: 200 }, (_, i) => tmp('fifo' + swaps + '-' + i));
    execFileSync('mkfifo', names);
    fifos = names;
  }
  return fifos.pop();
};
// The harmless file is written (and flushed) once; each swap renames a new hard link to it, which
// is instant (ext4 would flush a freshly written file during the rename, stretching one state).
{
  const fd = fs.openSync(tmp('r'), 'w');
  fs.writeSync(fd, publicText);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}
function dwell() {
  const end = process.hrtime.bigint() + BigInt(Math.floor(Math.random() * 200_000));
  while (process.hrtime.bigint() < end);
}
function clearing(op) {
  for (let attempt = 0; ; attempt++) {
    try {
      return op();
    } catch (err) {
      if (attempt > 1000 || !['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EPERM'].includes(err.code)) throw err;
      try {
        fs.rmSync(target, { recursive: true, force: true });
      } catch {
        // still being written into: try again
      }
    }
  }
}
function once() {
  try {
    // Everything is prepared first, so each state lasts about as long as the other: a rename, then
    // a short random dwell (0-200 us) to hit check/use windows of every size.
    if (mode === 'file-symlink') {
      fs.symlinkSync(danger, tmp('l'));
      fs.linkSync(tmp('r'), tmp('f'));
      fs.renameSync(tmp('l'), target);
      dwell();
      fs.renameSync(tmp('f'), target);
      dwell();
    } else if (mode === 'dir-symlink') {
      fs.symlinkSync(danger, tmp('l'));
      fs.renameSync(target, tmp('d'));
      // The code under test may have created 'target' as a new directory in the gap: clear it.
      clearing(() => fs.renameSync(tmp('l'), target));
      dwell();
      clearing(() => fs.unlinkSync(target));
      clearing(() => fs.renameSync(tmp('d'), target));
      dwell();
    } else if (mode === 'file-fifo') {
      fs.linkSync(tmp('r'), tmp('f'));
      fs.renameSync(nextFifo(), target);
      dwell();
      fs.renameSync(tmp('f'), target);
      dwell();
    }
    swaps++;
    if (swaps === 1) process.stdout.write('ready\n');
  } catch (err) {
    process.stdout.write('failed: ' + err.message + '\n');
    stop = true;
  }
}
function loop() {
  // Bursts, yielding between them so stdin's end is noticed.
  for (let i = 0; i < 50 && !stop && Date.now() < deadline; i++) once();
  if (stop || Date.now() >= deadline) {
    for (const f of [...fifos, tmp('r')]) try { fs.unlinkSync(f); } catch {}
    process.stdout.write('swaps ' + swaps + '\n');
    process.exit(0);
  }
  setImmediate(loop);
}
loop();
`;

export interface Swapper {
  /** Resolves once the first swap is done (so `target` exists). */
  ready: Promise<void>;
  /** Stops the swapper and returns how many swaps it made; `target` is left as the harmless thing. */
  stop(): Promise<number>;
}

/**
 * Starts swapping. For 'dir-symlink', `target` must exist as a directory; for the other modes it
 * is created. `publicText` is what the harmless regular file holds.
 */
export function startSwapper(mode: SwapMode, target: string, danger: string, publicText = 'public\n', maxMs = 60_000): Swapper {
  const child = spawn(process.execPath, ['-e', SCRIPT, mode, target, danger, publicText, String(maxMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) onReady();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    ready: Promise.race([ready, exited.then(() => Promise.reject(new Error(`swapper exited before its first swap (output: ${out})`)))]),
    async stop() {
      child.stdin.end();
      await exited;
      const m = /swaps (\d+)/.exec(out);
      if (!m || out.includes('failed:')) throw new Error(`the swapper failed (output: ${out})`);
      return Number(m[1]);
    },
  };
}
