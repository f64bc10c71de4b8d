// Start-up as ratios to `node -e 0`, interleaved in one run (medians): `tether auth token list`,
// and `tether serve` until its first 200 on /health, with the code cache the build made (as every
// start after `npm install` runs) and without it (TETHER_CODE_CACHE=off: what a Node other than the
// one that built it gets; src/cli/code-cache.ts).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timeCommand, type Row } from './lib.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tether.js');

/** Milliseconds from spawning `tether serve` to its first 200 on GET /health. */
async function serveReadyMs(env: NodeJS.ProcessEnv, project: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', project], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('serve did not start')), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited ${code}`));
      });
    });
    for (;;) {
      const r = await fetch(`${url}/health`).catch(() => null);
      if (r?.status === 200) {
        await r.arrayBuffer();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      }
    }
  } finally {
    await new Promise((r) => (child.exitCode !== null ? r(null) : (child.once('exit', r), child.kill('SIGTERM'))));
  }
}

export async function benchCliStartup(runs = 21, serveRuns = 11): Promise<Row[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-'));
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(home, 'c'),
    XDG_DATA_HOME: path.join(home, 'd'),
    XDG_STATE_HOME: path.join(home, 's'),
    NO_COLOR: '1',
  };
  timeCommand(process.execPath, [BIN, 'auth', 'token', 'create', '--name', 'bench', '--json'], env);
  const base: number[] = [];
  const cli: number[] = [];
  const serve: number[] = [];
  const cold: number[] = [];
  const coldEnv = { ...env, TETHER_CODE_CACHE: 'off' };
  // The numbers below mean what they say only if the cache is used: say so if it is not.
  const report = spawnSync(process.execPath, [BIN, 'serve', '--help'], { env: { ...env, TETHER_CODE_CACHE: 'report' }, encoding: 'utf8' }).stderr;
  const cacheState = /code cache: (\w+)/.exec(report)?.[1] ?? 'unknown';
  for (let i = 0; i < 3; i++) {
    timeCommand(process.execPath, ['-e', '0'], env);
    timeCommand(process.execPath, [BIN, 'auth', 'token', 'list'], env);
  }
  await serveReadyMs(env, home);
  for (let i = 0; i < runs; i++) {
    base.push(timeCommand(process.execPath, ['-e', '0'], env));
    cli.push(timeCommand(process.execPath, [BIN, 'auth', 'token', 'list'], env));
    if (i < serveRuns) serve.push(await serveReadyMs(env, home));
    if (i < serveRuns) cold.push(await serveReadyMs(coldEnv, home));
  }
  fs.rmSync(home, { recursive: true, force: true });
  const ratio = median(cli) / median(base);
  const serveRatio = median(serve) / median(base);
  return [
    { group: 'cli', metric: '`node -e 0` median', value: `${median(base).toFixed(1)} ms` },
    { group: 'cli', metric: '`tether auth token list` median', value: `${median(cli).toFixed(1)} ms` },
    { group: 'cli', metric: 'start-up ratio (list / node -e 0)', value: ratio.toFixed(2), target: '<= 1.5', ok: ratio <= 1.5 },
    { group: 'cli', metric: '`tether serve` to first 200 on /health, median', value: `${median(serve).toFixed(1)} ms` },
    {
      group: 'cli',
      metric: 'serve ready ratio (serve / node -e 0)',
      value: `${serveRatio.toFixed(2)} (code cache ${cacheState})`,
      target: '<= 3.0',
      ok: serveRatio <= 3.0,
    },
    { group: 'cli', metric: '`tether serve` without the code cache, median', value: `${median(cold).toFixed(1)} ms` },
    { group: 'cli', metric: 'serve ready ratio without the code cache', value: (median(cold) / median(base)).toFixed(2) },
  ];
}
