// Terminals: output throughput through the WebSocket as a ratio to reading the same command's
// output straight from node-pty in this process, and keystroke round-trip latency (WebSocket and,
// for reference, direct node-pty). A real server on 127.0.0.1 with a real token; one run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createToken } from '../src/auth/token-admin.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { silentLogger } from '../src/log.js';
import { ptyRoutes } from '../src/server/routes/pty.js';
import { median, percentile, type Row } from './lib.js';

const BYTES = 100_000_000;
/** Quads of runs in the order direct, server, server, direct: 6 quads, 12 adjacent pairs. */
const QUADS = 6;
/** Per path; the two paths alternate keystroke by keystroke. */
const LATENCY_SAMPLES = 1000;
const MB = 1_000_000;
// Waits for one line on stdin first, so nothing is produced before the reader is attached.
const PRODUCER = ['--norc', '--noprofile', '-c', `read -r _; head -c ${BYTES} /dev/zero | tr '\\0' a`];
const SHELL = ['--norc', '--noprofile', '-i'];
const SHELL_ENV = { PS1: '$ ', PROMPT_COMMAND: '', HISTFILE: '/dev/null' };

type PtyModule = typeof import('node-pty');

async function loadPty(): Promise<PtyModule> {
  const m = await import('node-pty');
  return (m as { default?: PtyModule }).default ?? m;
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`bench: ${what} took over ${ms} ms`)), ms))),
  ]);
}

/** /proc's clock ticks per second (USER_HZ): 100 on every Linux ABI Node supports. */
const USER_HZ = 100;

/**
 * CPU time (user + system, ms) of this process's main thread, which runs node-pty's reads, the
 * server and the bench's WebSocket client alike. Linux only; NaN elsewhere.
 */
function mainThreadCpuMs(): number {
  try {
    const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return NaN;
  }
}

interface Run {
  bytes: number;
  secs: number;
  /** Main-thread CPU over the run. */
  cpuMs: number;
}

/** Bytes and seconds for the producer read straight from node-pty. */
async function directThroughput(pty: PtyModule, cwd: string): Promise<Run> {
  const p = pty.spawn('bash', PRODUCER, { cwd, cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm-256color' }, encoding: null });
  let bytes = 0;
  p.onData((d: unknown) => (bytes += (d as Buffer).length));
  const done = new Promise<void>((resolve) => p.onExit(() => resolve()));
  const c0 = mainThreadCpuMs();
  const t0 = process.hrtime.bigint();
  p.write('\r');
  await withDeadline(done, 30_000, 'direct node-pty read');
  return { bytes, secs: Number(process.hrtime.bigint() - t0) / 1e9, cpuMs: mainThreadCpuMs() - c0 };
}

export interface Bench {
  server: RunningServer;
  token: string;
  ws: string;
  cleanup(): Promise<void>;
}

export async function startBenchServer(): Promise<Bench> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-pty-'));
  const project = path.join(root, 'project');
  fs.mkdirSync(project);
  const tokenFile = path.join(root, 'config', 'tether', 'auth-tokens.json');
  const { token } = await createToken({ name: 'bench', permissions: ['read', 'write', 'execute'], expiresAt: null }, tokenFile);
  const server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    projectDir: project,
    auth: true,
    tokenFile,
    settingsFile: path.join(root, 'config', 'tether', 'config.json'),
    log: silentLogger,
    registrars: [ptyRoutes()],
  });
  return {
    server,
    token,
    ws: server.url.replace(/^http/, 'ws'),
    async cleanup() {
      await server.close();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

async function createPty(b: Bench, args: string[], env: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${b.server.url}/pty`, {
    method: 'POST',
    headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ command: 'bash', args, env, cols: 1000, rows: 50 }),
  });
  if (res.status !== 201) throw new Error(`bench: POST /pty -> ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Opens a socket with its output handler attached from the start: the scrollback can arrive in the
 * same TCP read as the handshake and is emitted before an 'open' continuation could subscribe.
 */
function open(b: Bench, id: string, onOutput: (chunk: Buffer) => void): Promise<WebSocket> {
  const ws = new WebSocket(`${b.ws}/pty/${id}/connect`, ['tether'], { headers: { authorization: `Bearer ${b.token}` } });
  ws.on('message', (d: Buffer, binary) => binary && onOutput(d));
  return withDeadline(
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, r) => reject(new Error(`bench: upgrade refused ${r.statusCode}`)));
    }),
    10_000,
    'WebSocket open',
  );
}

/** Bytes and seconds for the same producer through the server and a WebSocket client. */
async function wsThroughput(b: Bench): Promise<Run> {
  const id = await createPty(b, PRODUCER);
  let bytes = 0;
  const ws = await open(b, id, (d) => (bytes += d.length));
  let closed: { code: number; reason: string } | undefined;
  const done = new Promise<void>((resolve) => ws.once('close', (code, reason) => ((closed = { code, reason: reason.toString() }), resolve())));
  const c0 = mainThreadCpuMs();
  const t0 = process.hrtime.bigint();
  ws.send(Buffer.from('\r'), { binary: true });
  await withDeadline(done, 30_000, 'WebSocket read');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = mainThreadCpuMs() - c0;
  if (closed?.code !== 1000) throw new Error(`bench: socket closed ${closed?.code} ${closed?.reason}`);
  return { bytes, secs, cpuMs };
}

export interface Echo {
  /** Send `s` and resolve once output containing `expect` arrives (any output if it is ''). */
  exchange(s: string, expect: string): Promise<void>;
  label: string;
  typed: number;
}

/** One interactive bash for keystroke round trips, once its prompt is up. */
async function echoer(label: string, send: (s: string) => void, onData: (fn: (chunk: Buffer) => void) => void): Promise<Echo> {
  let waiting: ((chunk: Buffer) => void) | null = null;
  let seen = '';
  onData((chunk) => {
    if (seen.length < 64) seen += chunk.toString('latin1');
    waiting?.(chunk);
  });
  await withDeadline(
    new Promise<void>((resolve) => {
      const check = () => (seen.includes('$ ') ? resolve() : setTimeout(check, 5));
      check();
    }),
    10_000,
    `${label}: the shell prompt`,
  );
  return {
    label,
    typed: 0,
    exchange(s, expect) {
      return withDeadline(
        new Promise<void>((resolve) => {
          waiting = (chunk) => {
            if (chunk.includes(expect)) {
              waiting = null;
              resolve();
            }
          };
          send(s);
        }),
        5000,
        `${label}: keystroke echo`,
      );
    },
  };
}

/** An interactive bash in a new terminal of the bench server, through a WebSocket, once its prompt is up. */
export async function shellViaServer(b: Bench): Promise<{ ws: WebSocket; shell: Echo }> {
  const id = await createPty(b, SHELL, SHELL_ENV);
  const early: Buffer[] = [];
  let sink: (d: Buffer) => void = (d) => void early.push(d);
  const ws = await open(b, id, (d) => sink(d));
  const shell = await echoer(
    'WebSocket',
    (s) => ws.send(Buffer.from(s), { binary: true }),
    (fn) => {
      for (const d of early.splice(0)) fn(d);
      sink = fn;
    },
  );
  return { ws, shell };
}

/** One timed keystroke (ms); every 50 the line is cleared with Ctrl-U (not timed) so it never wraps. */
async function roundTrip(e: Echo): Promise<number> {
  if (e.typed > 0 && e.typed % 50 === 0) await e.exchange('\x15', '');
  const ch = String.fromCharCode(97 + (e.typed++ % 26));
  const t0 = process.hrtime.bigint();
  await e.exchange(ch, ch);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function benchPty(): Promise<Row[]> {
  const pty = await loadPty();
  const b = await startBenchServer();
  try {
    const cwd = fs.realpathSync(os.tmpdir());
    // One warm-up pair (JIT, page cache, the shell's first start) that is not counted.
    await directThroughput(pty, cwd);
    await wsThroughput(b);
    // Quads in the order direct, server, server, direct: each server run is paired with the
    // direct run next to it, so drift in the machine's speed hits both sides of a pair alike
    // and, over a quad, both orders. The per-pair ratios' median is the figure; their quartiles
    // show how stable it was, and the two direct runs of each quad (A/A) how much the machine
    // alone moved between runs a few seconds apart.
    const direct: Run[] = [];
    const viaWs: Run[] = [];
    const ratios: number[] = [];
    const aa: number[] = [];
    let lost = 0;
    const rate = (r: Run) => r.bytes / MB / r.secs;
    for (let q = 0; q < QUADS; q++) {
      const d1 = await directThroughput(pty, cwd);
      const w1 = await wsThroughput(b);
      const w2 = await wsThroughput(b);
      const d2 = await directThroughput(pty, cwd);
      direct.push(d1, d2);
      viaWs.push(w1, w2);
      ratios.push(rate(w1) / rate(d1), rate(w2) / rate(d2));
      aa.push(rate(d2) / rate(d1));
      for (const w of [w1, w2]) lost = Math.max(lost, BYTES - (w.bytes - 2)); // minus the echoed "\r\n"
    }
    const ratio = median(ratios);
    const cpuPerMB = (runs: Run[]) => median(runs.map((r) => r.cpuMs / (r.bytes / MB)));
    const cpuRatio = cpuPerMB(direct) / cpuPerMB(viaWs);
    const aaSpread = Math.max(...aa.map((x) => Math.abs(Math.log(x)))); // the largest A/A move either way

    // Keystrokes: an interactive bash through the WebSocket and one straight in node-pty, taking
    // turns keystroke by keystroke (which goes first alternating), so a noisy moment on the
    // machine lands on both.
    const { ws, shell: viaServer } = await shellViaServer(b);
    const p = pty.spawn('bash', SHELL, { cwd, cols: 1000, rows: 50, env: { ...process.env, TERM: 'xterm-256color', ...SHELL_ENV }, encoding: null });
    const straight = await echoer(
      'node-pty',
      (s) => p.write(s),
      (fn) => p.onData((d: unknown) => fn(d as Buffer)),
    );
    const wsLat: number[] = [];
    const directLat: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      if (i % 2 === 0) {
        wsLat.push(await roundTrip(viaServer));
        directLat.push(await roundTrip(straight));
      } else {
        directLat.push(await roundTrip(straight));
        wsLat.push(await roundTrip(viaServer));
      }
    }
    ws.close();
    p.kill();

    const p50 = percentile(wsLat, 50);
    const p99 = percentile(wsLat, 99);
    const directP99 = percentile(directLat, 99);
    const q1 = percentile(ratios, 25);
    const q3 = percentile(ratios, 75);
    return [
      {
        group: 'pty',
        metric: `output ${BYTES / MB} MB, node-pty in-process (median of ${direct.length})`,
        value: `${median(direct.map(rate)).toFixed(0)} MB/s`,
      },
      {
        group: 'pty',
        metric: `output ${BYTES / MB} MB, through server + WebSocket (median of ${viaWs.length})`,
        value: `${median(viaWs.map(rate)).toFixed(0)} MB/s`,
      },
      {
        group: 'pty',
        metric: `WebSocket / node-pty throughput, median of ${ratios.length} adjacent pairs (quartiles ${q1.toFixed(2)}-${q3.toFixed(2)})`,
        value: ratio.toFixed(2),
        target: '>= 0.9',
        ok: ratio >= 0.9,
      },
      { group: 'pty', metric: 'A/A: node-pty direct, 2nd run of a quad / 1st, largest move', value: `${(100 * (Math.exp(aaSpread) - 1)).toFixed(0)} %` },
      {
        group: 'pty',
        metric: 'main-thread CPU per MB, node-pty direct / through server + WebSocket client (both in this thread)',
        value: `${cpuPerMB(direct).toFixed(1)} / ${cpuPerMB(viaWs).toFixed(1)} ms = ${cpuRatio.toFixed(2)}`,
      },
      { group: 'pty', metric: 'bytes lost through WebSocket', value: String(Math.max(0, lost)), target: '0', ok: lost <= 0 },
      { group: 'pty', metric: `keystroke round trip p50 (WebSocket, ${wsLat.length} samples)`, value: `${p50.toFixed(2)} ms`, target: '<= 5 ms', ok: p50 <= 5 },
      { group: 'pty', metric: 'keystroke round trip p99 (WebSocket)', value: `${p99.toFixed(2)} ms`, target: '<= 2 ms', ok: p99 <= 2 },
      {
        group: 'pty',
        metric: 'keystroke round trip p50 / p99 (node-pty direct, turn about with the above)',
        value: `${percentile(directLat, 50).toFixed(2)} / ${directP99.toFixed(2)} ms`,
      },
      // The machine's own tail (a vCPU preempted, the shell scheduled late) is in both; this is the
      // part the server adds.
      { group: 'pty', metric: 'keystroke p99, WebSocket minus node-pty direct', value: `${(p99 - directP99).toFixed(2)} ms` },
    ];
  } finally {
    await b.cleanup();
  }
}
