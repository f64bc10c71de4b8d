// Races against the file writes: a separate process keeps swapping a path inside the project
// between a harmless file/directory and a symlink to something outside, while 150 PUT and DELETE
// requests use that path. Proves: nothing outside is ever written, created or deleted, no 5xx, no
// request hangs, and no temp file is left behind.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startSwapper, type Swapper } from './helpers-swap.js';

const N = 150;
const REQUEST_TIMEOUT_MS = 10_000;
const SECRET = 'SECRET-7f3a outside';

let s: TestServer;
let token: string;
let outside: string;
let race: string;
let swapper: Swapper | undefined;

beforeAll(async () => {
  s = await startTestServer();
  token = (await s.token(['read', 'write'])).token;
  outside = path.join(s.env.root, 'outside');
  race = path.join(s.project, 'race');
});
afterAll(() => s.close());
beforeEach(() => {
  fs.rmSync(outside, { recursive: true, force: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'key.txt'), SECRET);
  fs.mkdirSync(race, { recursive: true });
});
afterEach(async () => {
  await swapper?.stop();
  swapper = undefined;
  fs.rmSync(race, { recursive: true, force: true });
});

interface Tally {
  ok: number;
  refused: number;
  serverErrors: number;
  hung: number;
  statuses: Record<number, number>;
}

/** N requests, 4 at a time, each with its own timeout. */
async function hammer(request: (i: number) => { method: string; url: string; body?: unknown }): Promise<Tally> {
  const t: Tally = { ok: 0, refused: 0, serverErrors: 0, hung: 0, statuses: {} };
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const { method, url, body } = request(next++);
      let status: number;
      try {
        const r = await s.fetch(url, {
          method,
          token,
          headers: { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = r.status;
        await r.arrayBuffer();
      } catch {
        t.hung++;
        continue;
      }
      t.statuses[status] = (t.statuses[status] ?? 0) + 1;
      if (status >= 500) t.serverErrors++;
      else if (status < 300) t.ok++;
      else t.refused++;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return t;
}

/** What is outside, with contents: must be exactly what the test put there. */
const outsideState = () =>
  fs
    .readdirSync(outside, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((n) => `${n}:${fs.readFileSync(path.join(outside, n), 'utf8')}`);
const tempsLeft = () => fs.readdirSync(s.project, { recursive: true, encoding: 'utf8' }).filter((n) => /\.tether-\d+-[0-9a-f]{12}\.tmp$/.test(n));
const noCrashLogs = () => s.logs.filter((l) => l.event === 'request.crash' || l.event === 'request.error');

describe('PUT and DELETE while a path is swapped for a symlink out', () => {
  it('PUT on a file swapped with a symlink to a secret: the secret is never written, no 5xx', async () => {
    const before = outsideState();
    swapper = startSwapper('file-symlink', path.join(race, 'target.txt'), path.join(outside, 'key.txt'), 'public\n');
    await swapper.ready;
    const t = await hammer((i) => ({ method: 'PUT', url: '/file/content?path=race/target.txt', body: { content: `written ${i}\n` } }));
    const swaps = await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ serverErrors: 0, hung: 0 });
    expect(t.ok, JSON.stringify(t)).toBeGreaterThan(0);
    expect(t.refused, JSON.stringify(t)).toBeGreaterThan(0); // the symlink state was hit too
    expect(swaps).toBeGreaterThan(0);
    expect(outsideState()).toEqual(before);
    expect(tempsLeft()).toEqual([]);
    expect(noCrashLogs()).toEqual([]);
  }, 90_000);

  it('PUT into a directory swapped with a symlink to an outside directory (with and without createParents): nothing appears outside', async () => {
    const before = outsideState();
    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    const t = await hammer((i) =>
      i % 3 === 0
        ? { method: 'PUT', url: '/file/content?path=race/dir/key.txt', body: { content: 'pwned' } }
        : { method: 'PUT', url: `/file/content?path=race/dir/${i % 3 === 1 ? 'new.txt' : 'sub/deeper.txt'}`, body: { content: 'x', createParents: true } },
    );
    await swapper.stop();
    swapper = undefined;
    expect(t, JSON.stringify(t)).toMatchObject({ serverErrors: 0, hung: 0 });
    expect(t.ok, JSON.stringify(t)).toBeGreaterThan(0);
    expect(outsideState()).toEqual(before);
    expect(tempsLeft()).toEqual([]);
    expect(noCrashLogs()).toEqual([]);
  }, 90_000);

  it('DELETE on a file swapped with a symlink to a secret, and through a swapped directory: nothing outside is removed', async () => {
    const before = outsideState();
    swapper = startSwapper('file-symlink', path.join(race, 'target.txt'), path.join(outside, 'key.txt'), 'public\n');
    await swapper.ready;
    const a = await hammer(() => ({ method: 'DELETE', url: '/file?path=race/target.txt' }));
    await swapper.stop();
    swapper = undefined;
    expect(a, JSON.stringify(a)).toMatchObject({ serverErrors: 0, hung: 0 });
    expect(a.ok, JSON.stringify(a)).toBeGreaterThan(0);
    expect(outsideState()).toEqual(before);

    const dir = path.join(race, 'dir');
    fs.mkdirSync(dir);
    swapper = startSwapper('dir-symlink', dir, outside);
    await swapper.ready;
    // The inside copy is recreated before each request, so that both states have a key.txt to aim
    // at: through a descriptor of the real directory (O_NOFOLLOW), never through the symlink.
    const b = await hammer(() => {
      let fd: number | undefined;
      try {
        fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
        fs.writeFileSync(`/proc/self/fd/${fd}/key.txt`, 'inside copy');
      } catch {
        // the symlink state: no copy this time
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
      return { method: 'DELETE', url: '/file?path=race/dir/key.txt' };
    });
    await swapper.stop();
    swapper = undefined;
    expect(b, JSON.stringify(b)).toMatchObject({ serverErrors: 0, hung: 0 });
    expect(b.ok, JSON.stringify(b)).toBeGreaterThan(0);
    expect(outsideState()).toEqual(before);
    expect(noCrashLogs()).toEqual([]);
  }, 90_000);
});
