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
const ROUNDS = 9;
const LATENCY_SAMPLES = 200;
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

/** Bytes and seconds for the producer read straight from node-pty. */
async function directThroughput(pty: PtyModule, cwd: string): Promise<{ bytes: number; secs: number }> {
  const p = pty.spawn('bash', PRODUCER, { cwd, cols: 80, rows: 24, env: { ...process.env, TERM: 'xterm-256color' }, encoding: null });
  let bytes = 0;
  p.onData((d: unknown) => (bytes += (d as Buffer).length));
  const done = new Promise<void>((resolve) => p.onExit(() => resolve()));
  const t0 = process.hrtime.bigint();
  p.write('\r');
  await withDeadline(done, 30_000, 'direct node-pty read');
  return { bytes, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
}

interface Bench {
  server: RunningServer;
  token: string;
  ws: string;
  cleanup(): Promise<void>;
}

async function startBenchServer(): Promise<Bench> {
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
async function wsThroughput(b: Bench): Promise<{ bytes: number; secs: number }> {
  const id = await createPty(b, PRODUCER);
  let bytes = 0;
  const ws = await open(b, id, (d) => (bytes += d.length));
  let closed: { code: number; reason: string } | undefined;
  const done = new Promise<void>((resolve) => ws.once('close', (code, reason) => ((closed = { code, reason: reason.toString() }), resolve())));
  const t0 = process.hrtime.bigint();
  ws.send(Buffer.from('\r'), { binary: true });
  await withDeadline(done, 30_000, 'WebSocket read');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (closed?.code !== 1000) throw new Error(`bench: socket closed ${closed?.code} ${closed?.reason}`);
  return { bytes, secs };
}

/** Round trips of single keystrokes to an interactive bash: send one byte, wait for its echo. */
async function roundTrips(label: string, send: (s: string) => void, onData: (fn: (chunk: Buffer) => void) => void, n: number): Promise<number[]> {
  let waiting: ((chunk: Buffer) => void) | null = null;
  let seen = '';
  onData((chunk) => {
    seen += chunk.toString('latin1');
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
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    // Letters cycle; every 50 the line is cleared with Ctrl-U (not timed) so it never wraps.
    if (i > 0 && i % 50 === 0) {
      await withDeadline(new Promise<void>((resolve) => ((waiting = () => resolve()), send('\x15'))), 5000, 'line kill');
    }
    const ch = String.fromCharCode(97 + (i % 26));
    const t0 = process.hrtime.bigint();
    await withDeadline(
      new Promise<void>((resolve) => {
        waiting = (chunk) => {
          if (chunk.includes(ch)) resolve();
        };
        send(ch);
      }),
      5000,
      'keystroke echo',
    );
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  waiting = null;
  return samples;
}

export async function benchPty(): Promise<Row[]> {
  const pty = await loadPty();
  const b = await startBenchServer();
  try {
    const cwd = fs.realpathSync(os.tmpdir());
    // Interleave the rounds so machine noise hits both paths alike.
    const direct: number[] = [];
    const viaWs: number[] = [];
    const ratios: number[] = [];
    let lost = 0;
    // One warm-up pair (JIT, page cache, the shell's first start) that is not counted.
    await directThroughput(pty, cwd);
    await wsThroughput(b);
    for (let r = 0; r < ROUNDS; r++) {
      const d = await directThroughput(pty, cwd);
      const w = await wsThroughput(b);
      direct.push(d.bytes / MB / d.secs);
      viaWs.push(w.bytes / MB / w.secs);
      // The ratio of each back-to-back pair, then the median: a burst of load elsewhere on the
      // machine moves one pair, not the figure.
      ratios.push(w.bytes / MB / w.secs / (d.bytes / MB / d.secs));
      lost = Math.max(lost, BYTES - (w.bytes - 2)); // minus the echoed "\r\n"
    }
    const ratio = median(ratios);
    const dRate = median(direct);
    const wRate = median(viaWs);

    // Latency through the WebSocket.
    const id = await createPty(b, SHELL, SHELL_ENV);
    const early: Buffer[] = [];
    let sink: (d: Buffer) => void = (d) => void early.push(d);
    const ws = await open(b, id, (d) => sink(d));
    const wsLat = await roundTrips(
      'WebSocket',
      (s) => ws.send(Buffer.from(s), { binary: true }),
      (fn) => {
        for (const d of early.splice(0)) fn(d);
        sink = fn;
      },
      LATENCY_SAMPLES,
    );
    ws.close();

    // For reference: the same keystrokes straight into node-pty.
    const p = pty.spawn('bash', SHELL, { cwd, cols: 1000, rows: 50, env: { ...process.env, TERM: 'xterm-256color', ...SHELL_ENV }, encoding: null });
    const directLat = await roundTrips(
      'node-pty',
      (s) => p.write(s),
      (fn) => p.onData((d: unknown) => fn(d as Buffer)),
      LATENCY_SAMPLES,
    );
    p.kill();

    const p50 = percentile(wsLat, 50);
    const p99 = percentile(wsLat, 99);
    return [
      { group: 'pty', metric: `output ${BYTES / MB} MB, node-pty in-process`, value: `${dRate.toFixed(0)} MB/s` },
      { group: 'pty', metric: `output ${BYTES / MB} MB, through server + WebSocket`, value: `${wRate.toFixed(0)} MB/s` },
      { group: 'pty', metric: 'WebSocket / node-pty throughput', value: ratio.toFixed(2), target: '>= 0.9', ok: ratio >= 0.9 },
      { group: 'pty', metric: 'bytes lost through WebSocket', value: String(Math.max(0, lost)), target: '0', ok: lost <= 0 },
      { group: 'pty', metric: 'keystroke round trip p50 (WebSocket)', value: `${p50.toFixed(2)} ms`, target: '<= 5 ms', ok: p50 <= 5 },
      { group: 'pty', metric: 'keystroke round trip p99 (WebSocket)', value: `${p99.toFixed(2)} ms`, target: '<= 2 ms', ok: p99 <= 2 },
      {
        group: 'pty',
        metric: 'keystroke round trip p50 / p99 (node-pty direct)',
        value: `${percentile(directLat, 50).toFixed(2)} / ${percentile(directLat, 99).toFixed(2)} ms`,
      },
    ];
  } finally {
    await b.cleanup();
  }
}
