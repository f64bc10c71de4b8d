// HTTP throughput of `GET /auth/whoami` with auth vs the same server with --no-auth (same client,
// same connection count, interleaved rounds in one run, with an A/A control), plus the rate of 401
// rejections.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { median, percentile, type Row } from './lib.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tether.js');

// Servers on core 0, this process (autocannon) on core 1: the two never compete for a core.
const PIN = fs.existsSync('/usr/bin/taskset') && os.cpus().length >= 2;
function spawnPinned(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return PIN
    ? spawn('/usr/bin/taskset', ['-c', '0', process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] })
    : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
}
function pinSelf(): void {
  if (PIN) spawnSync('/usr/bin/taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
}
/** CPU time (ms) a process has used so far, all its threads: the scheduler's nanosecond count
 * (/proc/<pid>/task/<tid>/schedstat) where the kernel keeps one, else /proc's 10 ms ticks. A round
 * of 2 s is about 2,000 ms of CPU, so ticks would put 0.5 % of noise into every per-round ratio. */
function cpuMs(pid: number | undefined): number {
  try {
    let ns = 0;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    try {
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
    } catch {
      return NaN;
    }
  }
}

/** A bare node:http server answering every request with exactly `head` + `body`. */
const BARE = `const [h, b] = JSON.parse(process.env.BARE_RESPONSE);
require('node:http').createServer((q, r) => { r.writeHead(200, h); r.end(b); })
  .listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;

async function startBare(head: Record<string, string>, body: string): Promise<{ url: string; child: ChildProcess }> {
  return waitListening(spawnPinned(['-e', BARE], { ...process.env, BARE_RESPONSE: JSON.stringify([head, body]) }));
}

async function startServe(args: string[], env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  return waitListening(spawnPinned([BIN, 'serve', '--port', '0', ...args], env));
}

function waitListening(child: ChildProcess): Promise<{ url: string; child: ChildProcess }> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start')), 15_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        // From here on the server's log (a line per refused request in the 401 rounds) is read and
        // dropped: a pipe is written synchronously, so an unread one would stall the server, and
        // keeping it would grow this process by megabytes and slow the load generator.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ url: m[1], child });
      }
    };
    child.stdout!.on('data', onData);
  });
}

async function load(
  url: string,
  headers: Record<string, string>,
  seconds: number,
  connections = 32,
): Promise<{ rps: number; requests: number; non2xx: number }> {
  const r = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  return { rps: r.requests.average, requests: r.requests.total, non2xx: r.non2xx };
}

/** Requests served and server CPU (ms) spent, summed over a server's rounds. */
interface Tally {
  requests: number;
  cpuMs: number;
  seconds: number;
}

const rps = (t: Tally) => t.requests / t.seconds;
const cpu = (t: Tally) => (t.cpuMs * 1000) / t.requests;

async function loadInto(t: Tally, child: ChildProcess, url: string, headers: Record<string, string>, seconds: number) {
  const c0 = cpuMs(child.pid);
  const r = await load(url, headers, seconds);
  t.requests += r.requests;
  t.cpuMs += cpuMs(child.pid) - c0;
  t.seconds += seconds;
  return r;
}

export async function benchHttp(seconds = 2, rounds = 12): Promise<Row[]> {
  pinSelf();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-http-'));
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_STATE_HOME: path.join(home, 'state'),
    NO_COLOR: '1',
  };
  const { execFileSync } = await import('node:child_process');
  const token = JSON.parse(execFileSync(process.execPath, [BIN, 'auth', 'token', 'create', '--json', '--permissions', 'read'], { env }).toString())
    .token as string;
  const authed = await startServe(['--project', home], env);
  const open = await startServe(['--project', home, '--no-auth'], env);
  // A second --no-auth server, measured exactly as the first: how far two identical servers differ
  // (the A/A rows). An overhead inside that spread is not told apart from noise.
  const open2 = await startServe(['--project', home, '--no-auth'], env);
  const auth = { authorization: `Bearer ${token}` };
  // The bare server sends the very bytes tether sends (status, headers, body; Date and the
  // connection headers are Node's own in both).
  const sample = await fetch(`${authed.url}/auth/whoami`, { headers: auth });
  const body = await sample.text();
  const head: Record<string, string> = {};
  sample.headers.forEach((v, k) => {
    if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k)) head[k] = v;
  });
  const bare = await startBare(head, body);
  const servers = [authed, open, open2, bare];
  try {
    // The same warm-up for each (the JIT's work is done before the first round).
    for (const s of [authed, open, open2]) await load(`${s.url}/auth/whoami`, auth, 3);
    await load(`${bare.url}/auth/whoami`, {}, 3);
    // Many short rounds, the servers in turn: this machine's speed drifts by tens of percent over
    // seconds. Each round runs tether with auth and both --no-auth servers back to back, in an order
    // that rotates, and gives one ratio per pair; the figure is the median of the rounds' ratios (a
    // round the machine disturbed is an outlier, not a shift), shown with their quartiles.
    //
    // The --no-auth servers are sent the very request the authenticating one is, Authorization
    // header included (they ignore it): the overhead is then what checking costs the server, not
    // the bytes of a longer request. The three are treated exactly alike (the same warm-up, the same
    // rounds): a server given more requests than the others measured up to 10 % cheaper per request
    // than an identical one, a bias the A/A row showed and that an earlier version of this bench had.
    // The baseline of a round is the mean of its two --no-auth servers.
    const A: Tally = { requests: 0, cpuMs: 0, seconds: 0 };
    const O: Tally = { requests: 0, cpuMs: 0, seconds: 0 };
    const O2: Tally = { requests: 0, cpuMs: 0, seconds: 0 };
    const B: Tally = { requests: 0, cpuMs: 0, seconds: 0 };
    const trio = [
      { t: A, s: authed },
      { t: O, s: open },
      { t: O2, s: open2 },
    ];
    /** Per round: [auth overhead against the two --no-auth servers' mean, A/A (open2 against open)],
     * by req/s (1 - x/baseline) and by CPU per request (x/baseline - 1). */
    const byRps: [number, number][] = [];
    const byCpu: [number, number][] = [];
    for (let i = 0; i < rounds; i++) {
      await loadInto(B, bare.child, `${bare.url}/auth/whoami`, {}, seconds);
      const round = new Map<Tally, Tally>();
      for (let k = 0; k < trio.length; k++) {
        const { t, s } = trio[(i + k) % trio.length];
        const one: Tally = { requests: 0, cpuMs: 0, seconds: 0 };
        const r = await loadInto(one, s.child, `${s.url}/auth/whoami`, auth, seconds);
        if (r.non2xx > 0) throw new Error(`load on ${s.url} got ${r.non2xx} non-2xx responses`);
        round.set(t, one);
        t.requests += one.requests;
        t.cpuMs += one.cpuMs;
        t.seconds += one.seconds;
      }
      const [a, o, o2] = [round.get(A)!, round.get(O)!, round.get(O2)!];
      byRps.push([1 - (2 * rps(a)) / (rps(o) + rps(o2)), 1 - rps(o2) / rps(o)]);
      byCpu.push([(2 * cpu(a)) / (cpu(o) + cpu(o2)) - 1, cpu(o2) / cpu(o) - 1]);
    }
    // Refusals after every accepting round, not between them: a refusal takes other branches of
    // the guard, and logs a line, and neither should weigh on the overhead rounds.
    const rejected = await load(`${authed.url}/auth/whoami`, {}, 4);
    const ratio = rps(A) / rps(B);
    const us = (t: Tally) => `${cpu(t).toFixed(1)} us CPU/req`;
    const pct = (x: number) => `${x >= 0 ? '' : '-'}${Math.abs(x * 100).toFixed(1)} %`;
    /** Median of one column of the rounds, with its quartiles. */
    const spread = (rows: [number, number][], col: 0 | 1) => {
      const xs = rows.map((r) => r[col]);
      return { mid: median(xs), text: `${pct(median(xs))} (quartiles ${pct(percentile(xs, 25))} to ${pct(percentile(xs, 75))})` };
    };
    const overRps = spread(byRps, 0);
    const overCpu = spread(byCpu, 0);
    return [
      { group: 'http', metric: 'bare node:http, same bytes, req/s', value: rps(B).toFixed(0) },
      {
        group: 'http',
        metric: 'GET /auth/whoami req/s, --no-auth (sent the same request), the two servers',
        value: `${rps(O).toFixed(0)} / ${rps(O2).toFixed(0)}`,
      },
      { group: 'http', metric: 'GET /auth/whoami req/s, with auth', value: rps(A).toFixed(0) },
      { group: 'http', metric: 'with auth / bare (req/s)', value: ratio.toFixed(2), target: '>= 0.5', ok: ratio >= 0.5 },
      {
        group: 'http',
        metric: `auth overhead (1 - auth/no-auth, req/s), median of ${rounds} rounds`,
        value: overRps.text,
        target: '<= 5 %',
        ok: overRps.mid <= 0.05,
      },
      { group: 'http', metric: 'A/A: a second --no-auth server, the same way (req/s)', value: spread(byRps, 1).text },
      { group: 'http', metric: 'server CPU per request: bare / the two no-auth / auth', value: `${us(B)} / ${us(O)}, ${us(O2)} / ${us(A)}` },
      {
        group: 'http',
        metric: 'bare / auth by CPU per request (load-independent)',
        value: (cpu(B) / cpu(A)).toFixed(2),
        target: '>= 0.5',
        ok: cpu(B) / cpu(A) >= 0.5,
      },
      {
        group: 'http',
        metric: `auth overhead by CPU per request, median of ${rounds} rounds`,
        value: overCpu.text,
        target: '<= 5 %',
        ok: overCpu.mid <= 0.05,
      },
      { group: 'http', metric: 'A/A by CPU per request', value: spread(byCpu, 1).text },
      { group: 'http', metric: '401 rejections/s (no token)', value: rejected.rps.toFixed(0) },
    ];
  } finally {
    await Promise.all(servers.map((s) => s.child).map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Server-side cost of auth without the network or a load generator: app.fetch in this process.
 * The runners take turns in batches of `batch` requests, in a rotating order, `rounds` times: the
 * machine's drift (tens of percent over seconds here) then falls on all of them alike, which
 * rounds of seconds each could not promise. A second --no-auth server, measured the same way,
 * shows how far two identical servers differ (the A/A row): a difference smaller than that is noise.
 */
export async function benchAuthInProcess(batch = 400, rounds = 100): Promise<Row[]> {
  const { startServer } = await import('../src/server/server.js');
  const { createToken } = await import('../src/auth/token-admin.js');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-inproc-'));
  const file = path.join(home, 'tokens.json');
  const { token } = await createToken({ permissions: ['read'], expiresAt: null }, file);
  const silent = { log() {} };
  const common = { port: 0, hostname: '127.0.0.1', projectDir: home, tokenFile: file, log: silent, settingsFile: path.join(home, 'config.json') };
  const withAuth = await startServer({ ...common, auth: true });
  const without = await startServer({ ...common, auth: false });
  const without2 = await startServer({ ...common, auth: false });
  // One stand-in connection for every request: a keep-alive client's, as the verify memo sees it.
  // Every server is sent the same request, Authorization header included.
  const connection = { remoteAddress: '127.0.0.1', remotePort: 50_000 };
  const headers = { host: '127.0.0.1:1', authorization: `Bearer ${token}` };
  const runner = (s: typeof withAuth, socket?: object) => async (count: number) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await (await s.fetch(new Request('http://127.0.0.1:1/auth/whoami', { headers }), socket)).text();
    return Number(process.hrtime.bigint() - t0);
  };
  // No socket: no memo, the full verify a connection's first request pays.
  const runners = {
    fullAuth: runner(withAuth),
    fullOpen: runner(without),
    keepAuth: runner(withAuth, connection),
    keepOpen: runner(without, connection),
    keepOpen2: runner(without2, connection),
  };
  const names = Object.keys(runners) as (keyof typeof runners)[];
  const ns = Object.fromEntries(names.map((n) => [n, 0])) as Record<keyof typeof runners, number>;
  try {
    for (let r = 0; r < 10; r++) for (const n of names) await runners[n](batch);
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(r + k) % names.length];
        ns[n] += await runners[n](batch);
      }
    }
    const us = (n: keyof typeof runners) => ns[n] / 1e3 / (batch * rounds);
    const cost = (a: number, b: number) => `${(a - b).toFixed(2)} us (${(((a - b) / b) * 100).toFixed(1)} %)`;
    return [
      {
        group: 'http',
        metric: 'in-process GET /auth/whoami, one keep-alive connection: --no-auth / with auth',
        value: `${us('keepOpen').toFixed(1)} / ${us('keepAuth').toFixed(1)} us/req`,
      },
      // Target 2 is the networked figure above; this is the same work without the socket I/O.
      { group: 'http', metric: 'in-process auth cost per request on a keep-alive connection', value: cost(us('keepAuth'), us('keepOpen')) },
      { group: 'http', metric: 'in-process A/A: a second --no-auth server, the same way', value: cost(us('keepOpen2'), us('keepOpen')) },
      { group: 'http', metric: "in-process auth cost, full verify (a connection's first request)", value: cost(us('fullAuth'), us('fullOpen')) },
    ];
  } finally {
    await withAuth.close();
    await without.close();
    await without2.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
