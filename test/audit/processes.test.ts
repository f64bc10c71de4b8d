// The audit log across processes: a writer killed with SIGKILL mid-write costs at most its last
// line, and writers in several processes (rotating under each other) never interleave within a line
// and lose none.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/log.js';
import { readAudit } from '../../src/audit/reader.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { filesOldestFirst, rawLines, tempDir } from './helpers.js';

const WRITER = path.join('test', 'audit', 'fixtures', 'writer.ts');
const cleanups: (() => void)[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  cleanups.splice(0).forEach((f) => f());
});

function writer(dir: string, id: string, count: number, maxBytes: number, maxFiles: number, pad: number): ChildProcess & { out: string; err: string } {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, id, String(count), String(maxBytes), String(maxFiles), String(pad)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { out: string; err: string };
  child.out = '';
  child.err = '';
  child.stdout!.on('data', (d) => (child.out += d));
  child.stderr!.on('data', (d) => (child.err += d));
  children.push(child);
  return child;
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

describe('SIGKILL mid-write', () => {
  it('leaves at most one line that is not an event; every line before it is whole and in order; the next writer starts fresh', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    // Lines of ~3.5 KB written as fast as the process can: a kill lands mid-write often enough.
    const child = writer(t.dir, 'k', 0, 1 << 30, 5, 3500);
    const file = path.join(t.dir, 'audit.jsonl');
    await waitFor(() => fs.existsSync(file) && fs.statSync(file).size > 2_000_000, { what: 'the writer to write 2 MB', timeout: 20_000 });
    child.kill('SIGKILL');
    await exited(child);

    const lines = rawLines(t.dir);
    const bad = lines.filter((l) => !l.event);
    expect(bad.length).toBeLessThanOrEqual(1);
    if (bad.length === 1) expect(lines.at(-1)!.event).toBeNull(); // only ever the last one
    const n = lines.filter((l) => l.event).map((l) => l.event!.bytes);
    expect(n.length).toBeGreaterThan(500);
    expect(n).toEqual(n.map((_, i) => i));

    // The reader agrees, and counts what it skipped.
    const r = await readAudit(t.dir, { kinds: [], limit: 10_000 });
    expect(r.events.length).toBe(n.length);
    expect(r.skippedLines).toBe(bad.length);

    // A new writer's line parses whatever the kill left.
    const next = new AuditLog({ dir: t.dir });
    next.record('web.login', { tokenId: 'tok_after', tokenName: 'after', address: '127.0.0.1' }, {});
    next.close();
    expect(rawLines(t.dir).at(-1)!.event).toMatchObject({ kind: 'web.login', tokenId: 'tok_after' });
  }, 60_000);
});

describe('concurrent writers in separate processes', () => {
  it('never interleave within a line and lose none, while rotating under each other', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const count = 3000;
    // Small files, and enough of them to keep every line: ~6000 lines of ~300 B over ~20 rotations.
    const a = writer(t.dir, 'a', count, 100_000, 40, 200);
    const b = writer(t.dir, 'b', count, 100_000, 40, 200);
    const codes = await Promise.all([exited(a), exited(b)]);
    expect([a.err, b.err]).toEqual(['', '']);
    expect(codes).toEqual([0, 0]);

    expect(filesOldestFirst(t.dir).length).toBeGreaterThan(10);
    const lines = rawLines(t.dir);
    expect(lines.filter((l) => !l.event).map((l) => l.line.slice(0, 200))).toEqual([]);
    for (const id of ['a', 'b']) {
      const mine = lines.map((l) => l.event!).filter((e) => e.tokenId === `tok_${id}`);
      // Every line of each writer, whole (the padding intact), and in its own order.
      expect(mine.map((e) => e.bytes)).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(mine.every((e) => e.pad === 'p'.repeat(200) && e.path === `${id}-${String(e.bytes)}`)).toBe(true);
    }
    // Each file was rotated once, when full: never twice (two writers rotating one file would leave
    // a nearly empty one behind), and never past its size by more than the other writer's line
    // (both can see room for one line and both append: the price of not locking every write).
    const files = filesOldestFirst(t.dir);
    for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(100_000 + 400);
    for (const f of files.slice(0, -1)) expect(fs.statSync(f).size, path.basename(f)).toBeGreaterThan(100_000 - 2 * 400);
  }, 60_000);
});

describe('the server and the CLI writing at once', () => {
  it('every line of both is whole and none is lost', async () => {
    const s = await startTestServer({ audit: { maxBytes: 20_000 } });
    cleanups.push(() => void s.close());
    const admin = await s.token(['read', 'write', 'execute']);
    const patches = 300;
    const clis = 6;
    const patch = (i: number) =>
      s.fetch('/config', { method: 'PATCH', token: admin.token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `m${i}` }) });
    // Requests in waves of 20 while the CLI processes create tokens.
    const cli = Promise.all(Array.from({ length: clis }, (_, i) => runCli(['auth', 'token', 'create', '--name', `cli-${i}`, '--json'], s.env.env)));
    for (let i = 0; i < patches; i += 20) {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, j) => patch(i + j)));
      expect(rs.every((r) => r.status === 200)).toBe(true);
    }
    const results = await cli;
    expect(results.map((r) => r.code)).toEqual(Array.from({ length: clis }, () => 0));
    const lines = rawLines(s.env.auditDir);
    expect(lines.filter((l) => !l.event).map((l) => l.line)).toEqual([]);
    expect(lines.filter((l) => l.event!.kind === 'config.update')).toHaveLength(patches);
    expect(
      lines
        .filter((l) => l.event!.kind === 'token.create')
        .map((l) => l.event!.tokenName)
        .sort(),
    ).toEqual(Array.from({ length: clis }, (_, i) => `cli-${i}`));
    expect(filesOldestFirst(s.env.auditDir).length).toBeGreaterThan(2);
  }, 60_000);
});
