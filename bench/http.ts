// HTTP throughput of `GET /auth/whoami` with auth vs the same server with --no-auth (same client,
// same connection count, interleaved rounds in one run), plus the rate of 401 rejections.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median, type Row } from './lib.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tether.js');

async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start')), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    });
  });
}

async function load(url: string, headers: Record<string, string>, seconds: number, connections = 32): Promise<{ rps: number; non2xx: number; statuses: Record<string, number> }> {
  const r = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, non2xx: r.non2xx, statuses: r.statusCodeStats as unknown as Record<string, number> };
}

export async function benchHttp(seconds = 4, rounds = 3): Promise<Row[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-http-'));
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), NO_COLOR: '1' };
  const { execFileSync } = await import('node:child_process');
  const token = JSON.parse(execFileSync(process.execPath, [BIN, 'auth', 'token', 'create', '--json', '--permissions', 'read'], { env }).toString()).token as string;
  const authed = await startServe(['--project', home], env);
  const open = await startServe(['--project', home, '--no-auth'], env);
  try {
    const auth = { authorization: `Bearer ${token}` };
    await load(`${authed.url}/auth/whoami`, auth, 1);
    await load(`${open.url}/auth/whoami`, {}, 1);
    const withAuth: number[] = [];
    const without: number[] = [];
    const rejected: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const a = await load(`${authed.url}/auth/whoami`, auth, seconds);
      if (a.non2xx > 0) throw new Error(`authenticated load got ${a.non2xx} non-2xx responses`);
      withAuth.push(a.rps);
      without.push((await load(`${open.url}/auth/whoami`, {}, seconds)).rps);
      rejected.push((await load(`${authed.url}/auth/whoami`, {}, seconds)).rps);
    }
    const wa = median(withAuth);
    const wo = median(without);
    const overhead = (wo - wa) / wo;
    return [
      { group: 'http', metric: 'GET /auth/whoami req/s, --no-auth', value: wo.toFixed(0) },
      { group: 'http', metric: 'GET /auth/whoami req/s, with auth', value: wa.toFixed(0), target: '>= 10,000', ok: wa >= 10_000 },
      { group: 'http', metric: 'auth overhead (1 - auth/no-auth)', value: `${(overhead * 100).toFixed(1)} %`, target: '<= 5 %', ok: overhead <= 0.05 },
      { group: 'http', metric: '401 rejections/s (no token)', value: median(rejected).toFixed(0) },
    ];
  } finally {
    await Promise.all([authed.child, open.child].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
    fs.rmSync(home, { recursive: true, force: true });
  }
}
