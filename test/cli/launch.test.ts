// serve's code cache (src/cli/code-cache.ts): the build's cache is used; a bad one (foreign, damaged,
// truncated, empty, of another build, not a file) is refused and serve still runs; writing one is
// whole and the variable that asks for it is not passed on.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { buildIdOf, packCache } from '../../src/cli/code-cache-format.js';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'launch', 'run-with-cache.mjs');
const REAL_CACHE = path.join(ROOT, 'dist', 'bundle', 'serve.v8cache');

let t: TempEnv;
afterEach(() => t?.cleanup());

/** `serve --help` through runWithCodeCache with this cache file. */
function helpWith(cache: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [FIXTURE, 'serve', '--help'], { env: { ...t.env, LAUNCH_CACHE: cache, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, state: /state=(\w+)/.exec(r.stderr)?.[1] };
}

describe('serve code cache', () => {
  it('the cache the build made is accepted by this Node, and serve runs', async () => {
    t = tempEnv();
    const r = await runCli(['serve', '--help'], { ...t.env, TETHER_CODE_CACHE: 'report' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('tether: code cache: accepted');
    expect(r.stdout).toMatch(/^Usage: .* serve \[options\]/m);
    // Off: compiled from source, same result.
    const off = await runCli(['serve', '--help'], { ...t.env, TETHER_CODE_CACHE: 'off' });
    expect(off.code).toBe(0);
    expect(off.stdout).toBe(r.stdout);
    // Other commands do not read it (the ES module chunks): nothing is reported.
    const list = await runCli(['auth', 'token', 'list'], { ...t.env, TETHER_CODE_CACHE: 'report' });
    expect(list.code).toBe(0);
    expect(list.stderr).not.toContain('code cache');
  });

  it("a foreign, damaged, truncated, empty or other build's cache is refused before V8 runs it, and serve runs from source", () => {
    t = tempEnv();
    const real = fs.readFileSync(REAL_CACHE);
    const id = buildIdOf(fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'serve.cjs'), 'utf8'))!;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const flipped = Buffer.from(real);
    // Unchecked, these flips crash V8 itself ("Fatal error ... unreachable code").
    for (let i = 64; i < flipped.length; i += 4096) flipped[i] ^= 0xff;
    const otherBuild = Buffer.from(real);
    otherBuild[10] ^= 0x01; // inside the build id
    const cases: Record<string, [Buffer, string]> = {
      'random bytes': [Buffer.from(Array.from({ length: real.length }, (_, i) => (i * 7919) & 0xff)), 'not a tether code cache'],
      'bare V8 data': [new vm.Script('(function () { return 42; })').createCachedData(), 'not a tether code cache'],
      empty: [Buffer.alloc(0), 'not a tether code cache'],
      'header only': [real.subarray(0, 28), 'not a tether code cache'],
      'another build': [otherBuild, 'made by another build'],
      'bit flips': [flipped, 'damaged (checksum)'],
      truncated: [real.subarray(0, real.length >> 1), 'damaged (checksum)'],
      // Well wrapped, but V8 data for another script: V8's own check refuses it.
      'another script': [packCache(id, new vm.Script('(function () { return 42; })').createCachedData()), 'by V8'],
    };
    const expected = helpWith(path.join(t.root, 'none.v8cache')).stdout;
    expect(expected).toMatch(/Usage: .* serve \[options\]/);
    for (const [name, [data, why]] of Object.entries(cases)) {
      const file = path.join(t.root, `${name.replace(/\W/g, '-')}.v8cache`);
      fs.writeFileSync(file, data);
      const r = helpWith(file, { TETHER_CODE_CACHE: 'report' });
      expect({ name, code: r.code, state: r.state, stdout: r.stdout }).toEqual({ name, code: 0, state: 'rejected', stdout: expected });
      expect(r.stderr).toContain(`code cache: rejected (${why}`);
    }
  });

  it('no cache file: compiled from source; a directory in its place: said on stderr, compiled from source', () => {
    t = tempEnv();
    const none = helpWith(path.join(t.root, 'missing.v8cache'));
    expect([none.code, none.state]).toEqual([0, 'none']);
    expect(none.stderr).not.toMatch(/not read/);
    const dir = path.join(t.root, 'dir.v8cache');
    fs.mkdirSync(dir);
    const r = helpWith(dir);
    expect([r.code, r.state]).toEqual([0, 'none']);
    expect(r.stderr).toContain(`code cache ${dir} not read`);
    expect(r.stdout).toBe(none.stdout);
  });

  it('TETHER_CODE_CACHE_WRITE: not used to read, not passed on, and the cache it writes is whole and accepted', () => {
    t = tempEnv();
    const file = path.join(t.root, 'made.v8cache');
    const w = helpWith(REAL_CACHE, { TETHER_CODE_CACHE_WRITE: file });
    expect([w.code, w.state]).toEqual([0, 'off']);
    expect(w.stderr).toContain('write-env=null');
    expect(fs.readdirSync(t.root).filter((n) => n.startsWith('made.v8cache'))).toEqual(['made.v8cache']);
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    const used = helpWith(file);
    expect([used.code, used.state]).toEqual([0, 'accepted']);
  });

  it('a serve started with TETHER_CODE_CACHE_WRITE does not hand it to the programs it runs', async () => {
    t = tempEnv();
    const created = await runCli(['auth', 'token', 'create', '--json'], t.env);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const file = path.join(t.root, 'serve.v8cache');
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', t.root], {
      env: { ...t.env, TETHER_CODE_CACHE_WRITE: file },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 20_000, what: 'serve to listen' });
      // The command runs on the server, a child of serve; the client's own environment lacks it anyway.
      const r = await runCli(['run', '--shell', 'echo "[${TETHER_CODE_CACHE_WRITE-unset}]"', '--url', url, '--token', token], t.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('[unset]');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  });

  it('the serve bundle has no import(): Node 20 drops its callback from code restored from a cache', () => {
    expect(fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'serve.cjs'), 'utf8')).not.toMatch(/\bimport\(\s*["'`]/);
  });
});
