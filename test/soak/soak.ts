// Soak: SOAK_SECONDS (default 60, after a warm-up of at least 45 s and 15,000 requests) of mixed load against a real `tether serve` process on loopback:
// authenticated reads and writes, 401s, SSE clients that come and go, and terminal WebSocket
// sessions. Bounded in time and concurrency; stops by itself. Fails (exit 1) on any 5xx, a leaked
// file descriptor or process, or resident memory growth of 10% or more after warm-up that is still
// going on at the end (RSS floors).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'tether.js');
// SOAK_SECONDS of measured load after a warm-up of the same load, during which the heap, SQLite's
// page cache and the JIT settle. How long that takes depends on the work done, not on the clock:
// the heap took its last step up (about 10 % of resident memory, once) after 3,000-11,000 requests
// in three runs on a slow machine, as late as 125 s (a 225 s run: flat from then on), where a quiet
// machine makes 8,000 requests in 40 s. So the warm-up lasts at least SOAK_WARMUP seconds and
// SOAK_WARMUP_REQUESTS requests, and at most SOAK_WARMUP_MAX seconds.
const WARMUP_S = Number(process.env.SOAK_WARMUP ?? 45);
const WARMUP_REQUESTS = Number(process.env.SOAK_WARMUP_REQUESTS ?? 15_000);
const WARMUP_MAX_S = Math.max(WARMUP_S, Number(process.env.SOAK_WARMUP_MAX ?? 240));
const MEASURED_S = Number(process.env.SOAK_SECONDS ?? 60);
// Three windows of at least 5 s each (below): after warm-up, the middle, the end.
if (!(MEASURED_S >= 15)) throw new Error(`SOAK_SECONDS must be a number of seconds >= 15, got ${process.env.SOAK_SECONDS}`);

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-soak-'));
const env = { ...process.env, XDG_CONFIG_HOME: path.join(home, 'c'), XDG_DATA_HOME: path.join(home, 'd'), NO_COLOR: '1', SHELL: '/bin/bash' };
const project = path.join(home, 'project');
fs.mkdirSync(project);
fs.writeFileSync(path.join(project, 'a.txt'), 'hello soak\n');
const mk = (perms: string) =>
  JSON.parse(execFileSync(process.execPath, [BIN, 'auth', 'token', 'create', '--json', '--permissions', perms], { env }).toString()).token as string;
const full = mk('all');
const reader = mk('read');

const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', project], { env, stdio: ['ignore', 'pipe', 'pipe'] });
let serverErr = '';
server.stderr.on('data', (d) => (serverErr += d));
const url: string = await new Promise((resolve, reject) => {
  let out = '';
  const t = setTimeout(() => reject(new Error('server did not start')), 15_000);
  server.stdout.on('data', (d) => {
    out += d;
    const m = /listening on (\S+)/.exec(out);
    if (m) {
      clearTimeout(t);
      resolve(m[1]);
    }
  });
});
const pid = server.pid!;

const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const fds = () => fs.readdirSync(`/proc/${pid}/fd`).length;
const children = () => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean).length;
  } catch {
    return 0;
  }
};

const stats = { requests: 0, byStatus: new Map<number, number>(), sse: 0, ptySessions: 0, errors: [] as string[] };
const count = (s: number) => {
  stats.requests++;
  stats.byStatus.set(s, (stats.byStatus.get(s) ?? 0) + 1);
  if (s >= 500) stats.errors.push(`status ${s}`);
};
const auth = (t: string) => ({ authorization: `Bearer ${t}` });
let stop = false;

async function httpWorker(i: number): Promise<void> {
  const ops = [
    async () => count((await fetch(`${url}/auth/whoami`, { headers: auth(reader) }).then(async (r) => (await r.arrayBuffer(), r))).status),
    async () => count((await fetch(`${url}/file/content?path=a.txt`, { headers: auth(reader) }).then(async (r) => (await r.arrayBuffer(), r))).status),
    async () => count((await fetch(`${url}/find?pattern=soak`, { headers: auth(reader) }).then(async (r) => (await r.arrayBuffer(), r))).status),
    async () => count((await fetch(`${url}/auth/whoami`).then(async (r) => (await r.arrayBuffer(), r))).status), // 401
    async () => {
      const r = await fetch(`${url}/session`, {
        method: 'POST',
        headers: { ...auth(full), 'content-type': 'application/json' },
        body: JSON.stringify({ title: `soak ${i}` }),
      });
      count(r.status);
      const s = (await r.json()) as { id: string };
      const sh = await fetch(`${url}/session/${s.id}/shell`, {
        method: 'POST',
        headers: { ...auth(full), 'content-type': 'application/json' },
        body: JSON.stringify({ command: 'echo soak' }),
      });
      count(sh.status);
      await sh.arrayBuffer();
      count((await fetch(`${url}/session/${s.id}`, { method: 'DELETE', headers: auth(full) }).then(async (x) => (await x.arrayBuffer(), x))).status);
    },
    async () =>
      count(
        (
          await fetch(`${url}/config`, {
            method: 'PATCH',
            headers: { ...auth(full), 'content-type': 'application/json' },
            body: JSON.stringify({ agentMaxSteps: 1 + (i % 10) }),
          }).then(async (r) => (await r.arrayBuffer(), r))
        ).status,
      ),
  ];
  let n = i;
  while (!stop) {
    try {
      await ops[n++ % ops.length]();
    } catch (err) {
      stats.errors.push(`http: ${String(err)}`);
    }
  }
}

async function sseWorker(): Promise<void> {
  while (!stop) {
    const ctl = new AbortController();
    try {
      const r = await fetch(`${url}/event`, { headers: auth(reader), signal: ctl.signal });
      count(r.status);
      stats.sse++;
      const rd = r.body!.getReader();
      await rd.read();
      await new Promise((res) => setTimeout(res, 300));
      ctl.abort();
    } catch (err) {
      if (!ctl.signal.aborted) stats.errors.push(`sse: ${String(err)}`);
    }
  }
}

async function ptyWorker(): Promise<void> {
  while (!stop) {
    try {
      const r = await fetch(`${url}/pty`, {
        method: 'POST',
        headers: { ...auth(full), 'content-type': 'application/json' },
        body: JSON.stringify({ command: '/bin/bash', args: ['--norc', '--noprofile'] }),
      });
      count(r.status);
      const p = (await r.json()) as { id: string };
      const ws = new WebSocket(`${url.replace('http', 'ws')}/pty/${p.id}/connect`, ['tether', `tether.auth.${full}`]);
      let out = '';
      ws.on('message', (d: Buffer, bin: boolean) => bin && (out += d.toString()));
      await new Promise<void>((res, rej) => (ws.once('open', () => res()), ws.once('error', rej)));
      ws.send(Buffer.from('echo pty-$((20+22)); exit 0\r'));
      await new Promise<void>((res) => ws.once('close', () => res()));
      if (!out.includes('pty-42')) stats.errors.push('pty: output missing');
      stats.ptySessions++;
      count((await fetch(`${url}/pty/${p.id}`, { method: 'DELETE', headers: auth(full) }).then(async (x) => (await x.arrayBuffer(), x))).status);
    } catch (err) {
      stats.errors.push(`pty: ${String(err)}`);
    }
  }
}

const baseFds = fds();
const baseChildren = children();
const workers = [...Array.from({ length: 6 }, (_, i) => httpWorker(i)), sseWorker(), sseWorker(), ptyWorker()];
const samples: { t: number; rss: number; fds: number }[] = [];
const t0 = Date.now();
/** When the warm-up ended (s), and the requests made by then. */
let warmedAt = Infinity;
let warmRequests = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const t = (Date.now() - t0) / 1000;
    samples.push({ t, rss: rss(), fds: fds() });
    if (process.env.SOAK_VERBOSE && samples.length % 5 === 0)
      console.error(`t=${t.toFixed(0)}s requests=${stats.requests} rss=${(samples.at(-1)!.rss / 1048576).toFixed(1)}MiB fds=${samples.at(-1)!.fds}`);
    if (warmedAt === Infinity && ((t >= WARMUP_S && stats.requests >= WARMUP_REQUESTS) || t >= WARMUP_MAX_S)) {
      warmedAt = t;
      warmRequests = stats.requests;
    }
    if (t >= warmedAt + MEASURED_S) {
      clearInterval(timer);
      resolve();
    }
  }, 1000);
});
const SECONDS = samples.at(-1)!.t;
stop = true;
await Promise.all(workers);
// Let the server settle (closed sockets reaped, exited terminals removed), then measure leaks.
const settle = Date.now();
let endFds = fds();
let endChildren = children();
while (Date.now() - settle < 10_000 && (endFds > baseFds + 2 || endChildren > baseChildren)) {
  await new Promise((r) => setTimeout(r, 200));
  endFds = fds();
  endChildren = children();
}
// Resident memory is compared by its floor (the lowest 1 s sample) over a window just after warm-up
// and over the final window: single samples swing by 15-20 MiB with the garbage collector's cycles,
// the floor is what stays retained.
const WINDOW_S = Math.max(5, Math.floor(MEASURED_S / 3));
const floor = (from: number, to: number) => Math.min(...samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss));
const warmRss = floor(warmedAt, warmedAt + WINDOW_S);
const midRss = floor(warmedAt + WINDOW_S, SECONDS - WINDOW_S);
const endRss = floor(SECONDS - WINDOW_S, Infinity);
const growth = (endRss - warmRss) / warmRss;
// A leak keeps growing; a heap that took one more step up and then stayed flat does not. Growth
// counts as a leak when it is still going on in the last window, above the middle one's floor.
const lateGrowth = (endRss - midRss) / midRss;
server.kill('SIGTERM');
const code = await new Promise<number | null>((r) => server.on('exit', (c) => r(c)));
fs.rmSync(home, { recursive: true, force: true });

const statusLine = [...stats.byStatus]
  .sort()
  .map(([s, n]) => `${s}: ${n}`)
  .join(', ');
console.log(`soak: ${SECONDS.toFixed(0)} s, ${stats.requests} requests (${statusLine}), ${stats.sse} SSE clients, ${stats.ptySessions} terminal sessions`);
console.log(
  `soak: warm-up ${warmedAt.toFixed(0)} s, ${warmRequests} requests${warmRequests < WARMUP_REQUESTS ? ` (cut short at ${WARMUP_MAX_S} s: fewer than ${WARMUP_REQUESTS})` : ''}`,
);
console.log(
  `soak: rss floor over ${WINDOW_S} s after warm-up ${(warmRss / 1048576).toFixed(1)} MiB, over the last ${WINDOW_S} s ${(endRss / 1048576).toFixed(1)} MiB (growth ${(growth * 100).toFixed(1)} %; ${(lateGrowth * 100).toFixed(1)} % over the middle window's floor)`,
);
console.log(`soak: fds ${baseFds} -> ${endFds}, child processes ${baseChildren} -> ${endChildren}, server exit code ${code}`);
const failures: string[] = [];
if (stats.errors.length) failures.push(`${stats.errors.length} errors, first: ${stats.errors.slice(0, 5).join('; ')}`);
if ([...stats.byStatus.keys()].some((s) => s >= 500)) failures.push('5xx responses');
if (endFds > baseFds + 2) failures.push(`file descriptors leaked: ${baseFds} -> ${endFds}`);
if (endChildren > baseChildren) failures.push(`processes leaked: ${baseChildren} -> ${endChildren}`);
if (growth >= 0.1 && lateGrowth >= 0.03) failures.push(`resident memory grew ${(growth * 100).toFixed(1)} % after warm-up, and was still growing`);
if (code !== 0) failures.push(`server exited ${code}: ${serverErr.slice(-500)}`);
if (stats.ptySessions === 0 || stats.sse === 0) failures.push('a load kind never ran');
if (failures.length) {
  console.log(`soak: FAILED\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('soak: passed');
