// The file lock is a kernel lock: held across processes, released the instant its holder dies,
// and queued within one process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/fs/atomic-json.js';
import { ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-lock-'));
  file = path.join(dir, 'data.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A child process that takes the lock, says "held", and keeps it until killed. */
function holder() {
  const code = `import { withFileLock } from ${JSON.stringify(path.join(ROOT, 'dist/fs/atomic-json.js'))};
await withFileLock(${JSON.stringify(file)}, async () => { process.stdout.write('held\\n'); await new Promise(() => setInterval(() => {}, 1000)); }, { what: 'test file' });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return { child, held: () => out.includes('held') };
}

/**
 * A holder that awaits a promise nothing references, while the garbage collector runs: the lock's
 * connection must stay reachable until release (Node 24 finalized it and freed the kernel lock).
 */
function unreferencedHolder() {
  const code = `import { withFileLock } from ${JSON.stringify(path.join(ROOT, 'dist/fs/atomic-json.js'))};
setInterval(() => globalThis.gc(), 20);
void withFileLock(${JSON.stringify(file)}, async () => { process.stdout.write('held\\n'); await new Promise(() => {}); }, { what: 'test file' });`;
  const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return { child, held: () => out.includes('held') };
}

describe('withFileLock', () => {
  it('a holder awaiting an unreferenced promise keeps the lock through garbage collections', async () => {
    const h = unreferencedHolder();
    try {
      await waitFor(h.held, { what: 'child to hold the lock' });
      // Many collections happen in the child meanwhile (every 20 ms): the lock must still be held.
      for (let i = 0; i < 5; i++) {
        await expect(withFileLock(file, () => Promise.resolve('stolen'), { what: 'test file', lockWaitMs: 200 })).rejects.toThrow(
          /still held by another process/,
        );
      }
    } finally {
      h.child.kill('SIGKILL');
    }
  });

  it('excludes other processes, and is free the instant the holder is killed', async () => {
    const h = holder();
    try {
      await waitFor(h.held, { what: 'child to hold the lock' });
      await expect(withFileLock(file, () => Promise.resolve('x'), { what: 'test file', lockWaitMs: 300 })).rejects.toThrow(/still held by another process/);
      h.child.kill('SIGKILL');
      await new Promise((r) => h.child.once('exit', r));
      const t0 = Date.now();
      expect(await withFileLock(file, () => Promise.resolve('mine'), { what: 'test file', lockWaitMs: 5000 })).toBe('mine');
      expect(Date.now() - t0).toBeLessThan(1000); // no staleness timeout to sit out
    } finally {
      h.child.kill('SIGKILL');
    }
  });

  it('queues callers within one process, in order, without overlap', async () => {
    const log: string[] = [];
    let inside = 0;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withFileLock(
          file,
          async () => {
            inside++;
            expect(inside).toBe(1);
            log.push(`start ${i}`);
            await new Promise((r) => setTimeout(r, 2));
            log.push(`end ${i}`);
            inside--;
          },
          { what: 'test file' },
        ),
      ),
    );
    expect(log).toEqual(Array.from({ length: 10 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
  });

  it('a failing holder releases the lock', async () => {
    await expect(withFileLock(file, () => Promise.reject(new Error('boom')), { what: 'test file' })).rejects.toThrow('boom');
    expect(await withFileLock(file, () => Promise.resolve('ok'), { what: 'test file', lockWaitMs: 200 })).toBe('ok');
  });

  it('an unwritable place is a clear error at once, naming the path', async () => {
    fs.writeFileSync(path.join(dir, 'not-a-dir'), '');
    const t0 = Date.now();
    await expect(withFileLock(path.join(dir, 'not-a-dir', 'data.json'), () => Promise.resolve('x'), { what: 'test file' })).rejects.toThrow(/not-a-dir/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('the lock file is private', async () => {
    await withFileLock(file, () => Promise.resolve(undefined), { what: 'test file' });
    expect(fs.statSync(`${file}.lock`).mode & 0o777).toBe(0o600);
  });
});
