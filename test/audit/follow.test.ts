// Following the audit log across rotation: in process (followAudit) and through the real CLI
// (`tether audit --follow`), every line arrives once, in order, whole; waits are conditions.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../src/audit/kinds.js';
import { followAudit, type Follower } from '../../src/audit/follow.js';
import { formatLine } from '../../src/audit/format.js';
import { AuditLog } from '../../src/audit/log.js';
import { readAudit } from '../../src/audit/reader.js';
import { spawnCli } from '../helpers/cli.js';
import { tempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { actor, filesOldestFirst, tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

const write = (audit: AuditLog, from: number, to: number) => {
  for (let i = from; i < to; i++) audit.record('file.write', actor(), { path: `f${i}`, bytes: i });
};
const numbers = (es: AuditEvent[]) => es.filter((e) => e.kind === 'file.write').map((e) => e.bytes as number);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A log rotating every ~10 lines with three lines in it, followed (polling every 20 ms) until all three are seen. */
async function followingThree(maxFiles: number) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const audit = new AuditLog({ dir: t.dir, maxBytes: 1500, maxFiles });
  cleanups.push(() => audit.close());
  write(audit, 0, 3);
  const got: AuditEvent[] = [];
  const f = followAudit({ dir: t.dir, from: null, onEvent: (e) => got.push(e), pollMs: 20 });
  cleanups.push(() => f.stop());
  await waitFor(() => numbers(got).length === 3, { what: 'the first lines' });
  return { t, audit, got };
}

/** Waits until `n` lines were followed; on a timeout, says which were seen (missing or repeated). */
async function followed(got: AuditEvent[], n: number) {
  await waitFor(() => numbers(got).length >= n, { what: `${n} lines`, timeout: 5000 }).catch((err: Error) => {
    throw new Error(`${err.message}; saw ${JSON.stringify(numbers(got))}`);
  });
}

describe('followAudit', () => {
  it('follows across many rotations, several between two looks, missing nothing and repeating nothing', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const audit = new AuditLog({ dir: t.dir, maxBytes: 1500, maxFiles: 5 });
    cleanups.push(() => audit.close());
    const got: AuditEvent[] = [];
    const f: Follower = followAudit({ dir: t.dir, from: null, onEvent: (e) => got.push(e), pollMs: 50 });
    cleanups.push(() => f.stop());
    let n = 0;
    // Synchronous batches (no look in between) that each cross three rotation boundaries (a line is
    // ~140 bytes: ~10 a file).
    for (let batch = 0; batch < 8; batch++) {
      write(audit, n, n + 35);
      n += 35;
      await waitFor(() => numbers(got).length === n, { what: `${n} lines followed` });
    }
    expect(numbers(got)).toEqual(range(n));
    expect(filesOldestFirst(t.dir)).toHaveLength(5);
  });

  it('continues from where a read ended, even if the file was rotated in between', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const audit = new AuditLog({ dir: t.dir, maxBytes: 1500, maxFiles: 3 });
    cleanups.push(() => audit.close());
    write(audit, 0, 3);
    const backlog = await readAudit(t.dir, { kinds: [], limit: 100 });
    expect(numbers(backlog.events)).toEqual([0, 1, 2]);
    // Lines after the read, then a rotation, before the follower starts.
    write(audit, 3, 14);
    expect(fs.existsSync(path.join(t.dir, 'audit.1.jsonl'))).toBe(true);
    const got: AuditEvent[] = [];
    const f = followAudit({ dir: t.dir, from: backlog.position, onEvent: (e) => got.push(e), pollMs: 50 });
    cleanups.push(() => f.stop());
    write(audit, 14, 16);
    await waitFor(() => numbers(got).length >= 13, { what: 'lines 3..15' });
    expect(numbers(got)).toEqual(range(16).slice(3));
  });

  it("a look that finds audit.jsonl gone mid-rotation, then two more rotations: the new file that took the finished one's inode number is not mistaken for it", async () => {
    const { t, audit, got } = await followingThree(3);
    // Half a rotation, as a look may catch one: audit.jsonl renamed away and not yet made again.
    // A line appended to the renamed file shows when the follower has looked (and finished it).
    const first = path.join(t.dir, 'audit.jsonl');
    fs.renameSync(first, path.join(t.dir, 'audit.1.jsonl'));
    fs.appendFileSync(path.join(t.dir, 'audit.1.jsonl'), formatLine(new Date(), 'file.write', actor(), { path: 'f3', bytes: 3 }));
    await waitFor(() => numbers(got).length === 4, { what: 'the line appended to the renamed file' });
    // Now, with no look in between, enough lines for two rotations: the first file is deleted
    // (maxFiles 3), and on ext4 the next new file gets its inode number at once.
    write(audit, 4, 30);
    await followed(got, 30);
    expect(numbers(got)).toEqual(range(30));
  });

  it('audit.jsonl rotated between opening it and listing the rotated files: nothing is read twice', async () => {
    const { t, audit, got } = await followingThree(5);
    // The follower's next look finds audit.jsonl rotated, opens the new one, then lists the rotated
    // files: at that moment (the listing) the new one is rotated too.
    let n = 3;
    const real = fs.readdirSync;
    const spy = vi.spyOn(fs, 'readdirSync').mockImplementation((...args: Parameters<typeof fs.readdirSync>) => {
      if (args[0] === t.dir && n < 30) {
        write(audit, n, 30);
        n = 30;
      }
      return real(...args);
    });
    cleanups.push(() => spy.mockRestore());
    write(audit, 3, 15); // one rotation: audit.jsonl is a new file
    n = 15;
    // Lines 15-29 are written only by the listing: they show that it ran at the moment wanted.
    await followed(got, 30);
    // A repeat would show late: give the follower one more look after the last line.
    write(audit, 30, 31);
    await waitFor(() => numbers(got).includes(30), { what: 'the last line' });
    expect(numbers(got)).toEqual(range(31));
  });

  it('skips a torn line and goes on with the next writer', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const audit = new AuditLog({ dir: t.dir });
    cleanups.push(() => audit.close());
    const got: AuditEvent[] = [];
    let skipped = 0;
    const f = followAudit({ dir: t.dir, from: null, onEvent: (e) => got.push(e), onSkip: () => skipped++, pollMs: 50 });
    cleanups.push(() => f.stop());
    write(audit, 0, 1);
    fs.appendFileSync(path.join(t.dir, 'audit.jsonl'), '{"time":"2026-01-01T00:00:00Z","kind":"fi');
    write(audit, 1, 2);
    await waitFor(() => numbers(got).length === 2, { what: 'both whole lines' });
    expect(skipped).toBe(1);
  });
});

describe('tether audit --follow', () => {
  it('prints the backlog, then every new line across rotation, in order, with the filters applied', async () => {
    const env = tempEnv();
    cleanups.push(() => env.cleanup());
    const audit = new AuditLog({ dir: env.auditDir, maxBytes: 1500, maxFiles: 3 });
    cleanups.push(() => audit.close());
    write(audit, 0, 5);
    audit.record('web.login', actor(), {}); // filtered out below
    const child = spawnCli(['audit', '--follow', '--json', '--kind', 'file'], env.env);
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const seen = () =>
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent);
    await waitFor(() => seen().length === 5, { what: 'the backlog' });
    let n = 5;
    for (let batch = 0; batch < 6; batch++) {
      write(audit, n, n + 13);
      audit.record('web.login', actor(), {});
      n += 13;
      // On a timeout, say what was seen (missing lines or repeated ones are the two ways to fail).
      await waitFor(() => seen().length === n, { what: `${n} lines`, timeout: 15_000 }).catch((err: Error) => {
        throw new Error(`${err.message}; saw ${JSON.stringify(numbers(seen()))}`);
      });
    }
    expect(numbers(seen())).toEqual(range(n));
    expect(seen().every((e) => e.kind === 'file.write')).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 60_000);
});
