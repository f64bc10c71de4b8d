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
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

async function load(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections = 32,
): Promise<{ rps: number; non2xx: number; statuses: Record<string, number> }> {
  const r = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, non2xx: r.non2xx, statuses: r.statusCodeStats as unknown as Record<string, number> };
}

export async function benchHttp(seconds = 4, rounds = 3): Promise<Row[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-http-'));
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data'), NO_COLOR: '1' };
  const { execFileSync } = await import('node:child_process');
  const token = JSON.parse(execFileSync(process.execPath, [BIN, 'auth', 'token', 'create', '--json', '--permissions', 'read'], { env }).toString())
    .token as string;
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

/** Server-side cost of auth without the network or a load generator: app.fetch in this process. */
export async function benchAuthInProcess(n = 50_000, rounds = 5): Promise<Row[]> {
  const { startServer } = await import('../src/server/server.js');
  const { createToken } = await import('../src/auth/token-admin.js');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-inproc-'));
  const file = path.join(home, 'tokens.json');
  const { token } = await createToken({ permissions: ['read'], expiresAt: null }, file);
  const silent = { log() {} };
  const common = { port: 0, hostname: '127.0.0.1', projectDir: home, tokenFile: file, log: silent, settingsFile: path.join(home, 'config.json') };
  const withAuth = await startServer({ ...common, auth: true });
  const without = await startServer({ ...common, auth: false });
  const perRequestUs = async (s: typeof withAuth, headers: Record<string, string>, count: number) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await (await s.fetch(new Request('http://127.0.0.1:1/auth/whoami', { headers }))).text();
    return Number(process.hrtime.bigint() - t0) / 1e3 / count;
  };
  const authH = { host: '127.0.0.1:1', authorization: `Bearer ${token}` };
  const plainH = { host: '127.0.0.1:1' };
  try {
    await perRequestUs(withAuth, authH, n / 5);
    await perRequestUs(without, plainH, n / 5);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds; r++) {
      a.push(await perRequestUs(withAuth, authH, n));
      b.push(await perRequestUs(without, plainH, n));
    }
    const ma = median(a);
    const mb = median(b);
    return [
      { group: 'http', metric: 'in-process GET /auth/whoami, --no-auth', value: `${mb.toFixed(1)} us/req` },
      { group: 'http', metric: 'in-process GET /auth/whoami, with auth', value: `${ma.toFixed(1)} us/req` },
      {
        group: 'http',
        metric: 'in-process auth cost per request',
        value: `${(ma - mb).toFixed(1)} us (${(((ma - mb) / mb) * 100).toFixed(1)} %)`,
        target: '<= 5 %',
        ok: (ma - mb) / mb <= 0.05,
      },
    ];
  } finally {
    await withAuth.close();
    await without.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
