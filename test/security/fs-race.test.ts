// Races against file-system confinement: a separate process keeps swapping a path inside the
// project between a harmless file/directory and a symlink to a secret outside (or a FIFO), while
// 150 requests or tool calls use that path. Proves: no secret is ever returned, nothing is ever
// written outside, no 5xx, no call hangs. A test that must see the harmless state succeed goes on
// past 150 until it has (under load a run of 150 can miss it), bounded at 1,200 calls and in time.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createToolHandlers } from '../../src/agent/tools.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSwapper, type Swapper } from './helpers-swap.js';

const N = 150;
/** The bound on calls for a test still waiting to see a state it needs. */
const MAX_CALLS = 8 * N;
const REQUEST_TIMEOUT_MS = 10_000;
const SECRET = 'SECRET-7f3a needle';

let s: TestServer;
let token: string;
let outside: string;
let race: string;
let swapper: Swapper | undefined;

beforeAll(async () => {
  s = await startTestServer();
  token = (await s.token(['read'])).token;
  outside = path.join(s.env.root, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'key.txt'), SECRET);
  fs.writeFileSync(path.join(outside, 'only-outside.txt'), SECRET);
  race = path.join(s.project, 'race');
  fs.mkdirSync(race);
});
afterAll(() => s.close());
afterEach(async () => {
  await swapper?.stop();
  swapper = undefined;
  for (const e of fs.readdirSync(race)) fs.rmSync(path.join(race, e), { recursive: true, force: true });
});

interface Tally {
  ok: number;
  refused: number;
  leaks: number;
  serverErrors: number;
  hung: number;
  statuses: Record<number, number>;
}

/** Runs `call` 4 at a time, N times, then on until `enough()` (at most MAX_CALLS in all). */
async function runCalls(call: () => Promise<void>, enough: () => boolean = () => true): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < N || (!enough() && next < MAX_CALLS)) {
      next++;
      await call();
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** Requests (see runCalls), each with its own timeout. */
async function hammer(pathname: string, enough?: (t: Tally) => boolean): Promise<Tally> {
  const t: Tally = { ok: 0, refused: 0, leaks: 0, serverErrors: 0, hung: 0, statuses: {} };
  await runCalls(
    async () => {
      let status: number;
      let text: string;
      try {
        const r = await s.fetch(pathname, { token, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        status = r.status;
        text = await r.text();
      } catch {
        t.hung++;
        return;
      }
      t.statuses[status] = (t.statuses[status] ?? 0) + 1;
      if (text.includes('SECRET') || text.includes('only-outside')) t.leaks++;
      if (status >= 500) t.serverErrors++;
      else if (status === 200) t.ok++;
      else t.refused++;
    },
    enough && (() => enough(t)),
  );
  return t;
}

const noCrashLogs = () => s.logs.filter((l) => l.event === 'request.crash' || l.event === 'request.error');

describe('file routes and search while a path is swapped for a symlink out', () => {
  it('GET /file/content on a file swapped with a symlink to a secret: 0 leaks, no 5xx', async () => {
    const target = path.join(race, 'target.txt');
    swapper = startSwapper('file-symlink', target, path.join(outside, 'key.txt'), 'public needle\n');
    await swapper.ready;
    const t = await hammer('/file/content?path=race/target.txt', (t) => t.ok > 0 && t.refused > 0);
    const swaps = await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ leaks: 0, serverErrors: 0, hung: 0 });
    // Both states were hit: the file (200) and the symlink out (403).
    expect(t.ok).toBeGreaterThan(0);
    expect(t.refused).toBeGreaterThan(0);
    expect(swaps).toBeGreaterThan(0);
    expect(noCrashLogs()).toEqual([]);
  });

  it('GET /file/content through a directory swapped with a symlink to an outside directory: 0 leaks', async () => {
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'key.txt'), 'public needle\n');
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const t = await hammer('/file/content?path=race/dir/key.txt', (t) => t.ok > 0);
    await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ leaks: 0, serverErrors: 0, hung: 0 });
    expect(t.ok).toBeGreaterThan(0);
  });

  it('GET /file listing a directory swapped with a symlink out never lists what is outside', async () => {
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'inside.txt'), 'x');
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const t = await hammer('/file?path=race/dir', (t) => t.ok > 0);
    await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ leaks: 0, serverErrors: 0, hung: 0 });
    expect(t.ok).toBeGreaterThan(0);
  });

  it('GET /find on a file swapped with a symlink to a secret: 0 leaks', async () => {
    const target = path.join(race, 'target.txt');
    swapper = startSwapper('file-symlink', target, path.join(outside, 'key.txt'), 'public needle\n');
    await swapper.ready;
    const t = await hammer('/find?pattern=needle');
    await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ leaks: 0, serverErrors: 0, hung: 0 });
    expect(t.ok).toBe(N);
  });

  it('GET /find in a directory swapped with a symlink out: 0 leaks', async () => {
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'key.txt'), 'public needle\n');
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const t = await hammer('/find?pattern=needle');
    await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ leaks: 0, serverErrors: 0, hung: 0 });
    expect(t.ok).toBe(N);
  });

  it('GET /find and /file/content on a file swapped with a FIFO: every call answers, none blocks a worker', async () => {
    const target = path.join(race, 'target.txt');
    swapper = startSwapper('file-fifo', target, '', 'public needle\n');
    await swapper.ready;
    const started = Date.now();
    const [a, b] = [await hammer('/find?pattern=needle'), await hammer('/file/content?path=race/target.txt', (t) => t.ok > 0)];
    await swapper.stop();
    swapper = undefined;
    expect(a, JSON.stringify(a)).toMatchObject({ serverErrors: 0, hung: 0, ok: N });
    expect(b, JSON.stringify(b)).toMatchObject({ serverErrors: 0, hung: 0 });
    expect(b.ok).toBeGreaterThan(0);
    // A FIFO is refused with a 4xx naming it, never opened for a blocking read.
    expect(
      Object.keys(b.statuses)
        .map(Number)
        .every((st) => st === 200 || st === 400 || st === 404 || st === 409),
    ).toBe(true);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(noCrashLogs()).toEqual([]);
  });
});

describe('agent file tools while a path is swapped for a symlink out', () => {
  /** 4 calls at a time, as an agent's parallel tool calls would run, on until one succeeded. */
  const runTools = async (call: (i: number) => Promise<unknown>) => {
    let leaks = 0;
    let ok = 0;
    let i = 0;
    await runCalls(
      async () => {
        const r = await call(i++);
        const text = JSON.stringify(r);
        if (text.includes('SECRET') || text.includes('only-outside')) leaks++;
        else if (!(r as { error?: string }).error) ok++;
      },
      () => ok > 0,
    );
    return { leaks, ok };
  };

  it('read_file on a file swapped with a symlink to a secret: 0 leaks', async () => {
    const tools = createToolHandlers({ directory: s.project });
    swapper = startSwapper('file-symlink', path.join(race, 'target.txt'), path.join(outside, 'key.txt'), 'public needle\n');
    await swapper.ready;
    const r = await runTools(() => tools.read_file({ path: 'race/target.txt' }));
    await swapper.stop();
    swapper = undefined;
    expect(r.leaks).toBe(0);
    expect(r.ok).toBeGreaterThan(0);
  });

  it('read_file and list_files through a directory swapped with a symlink out: 0 leaks', async () => {
    const tools = createToolHandlers({ directory: s.project });
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'key.txt'), 'public needle\n');
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const r = await runTools((i) => (i % 2 ? tools.read_file({ path: 'race/dir/key.txt' }) : tools.list_files({ path: 'race/dir' })));
    await swapper.stop();
    swapper = undefined;
    expect(r.leaks).toBe(0);
    expect(r.ok).toBeGreaterThan(0);
  });

  it('write_file into a directory swapped with a symlink out: nothing is ever written outside', async () => {
    const tools = createToolHandlers({ directory: s.project });
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    const before = fs.readdirSync(outside).sort();
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const r = await runTools((i) => tools.write_file({ path: `race/dir/${i % 2 ? 'new.txt' : 'sub/deeper.txt'}`, content: `written ${i}` }));
    await swapper.stop();
    swapper = undefined;
    expect(fs.readdirSync(outside).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(outside, 'key.txt'), 'utf8')).toBe(SECRET);
    expect(r.ok).toBeGreaterThan(0);
  });

  it('edit_file on a file swapped with a symlink to a secret: the secret is never read or changed', async () => {
    const tools = createToolHandlers({ directory: s.project });
    const target = path.join(race, 'target.txt');
    swapper = startSwapper('file-symlink', target, path.join(outside, 'key.txt'), 'public needle\n');
    await swapper.ready;
    // Only the secret contains "SECRET-7f3a": an edit of it that succeeds has read the secret.
    let secretEdits = 0;
    const r = await runTools(async (i) => {
      const res = await tools.edit_file({ path: 'race/target.txt', old_string: i % 2 ? 'public' : 'SECRET-7f3a', new_string: 'changed' });
      if (i % 2 === 0 && !('error' in res)) secretEdits++;
      return res;
    });
    await swapper.stop();
    swapper = undefined;
    expect(secretEdits).toBe(0);
    expect(r.leaks).toBe(0);
    expect(r.ok).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(outside, 'key.txt'), 'utf8')).toBe(SECRET);
  });
});
