// Where a keystroke's round trip through the server spends its time, by segment, to tell what the
// server adds to the tail from what the shell and the kernel do. An interactive bash in a terminal
// of a real server on 127.0.0.1, a WebSocket client in this process; Terminal's write, output and
// flush are wrapped to take the time at each step. Not part of `npm run bench` (it instruments the
// code it measures).
//
//   node --import tsx bench/profile/pty-keystroke.ts [keystrokes=3000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
// The server first: it sets up the schema library that the terminal's shapes are then made with.
import { shellViaServer, startBenchServer } from '../pty.js';
import { Terminal } from '../../src/pty/terminal.js';
import { percentile } from '../lib.js';

const N = Number(process.argv[2] ?? 3000);
/** When each step of the current keystroke first happened. */
const at: Partial<Record<'write' | 'written' | 'output' | 'flush', number>> = {};

// Terminal's private steps, wrapped for timing only (they still run).
interface Steps {
  write: (this: Steps, data: string | Buffer) => void;
  output: (this: Steps, chunk: Buffer) => void;
  flush: (this: Steps) => void;
  batch: Buffer[];
}
const steps = Terminal.prototype as unknown as Steps;
const { write, output, flush } = steps;
steps.write = function (this: Steps, data) {
  at.write ??= performance.now();
  write.call(this, data);
  at.written ??= performance.now();
};
steps.output = function (this: Steps, chunk) {
  at.output ??= performance.now();
  output.call(this, chunk);
};
steps.flush = function (this: Steps) {
  if (this.batch.length > 0) at.flush ??= performance.now();
  flush.call(this);
};

// Servers started here write their audit log and data under the XDG directories: a throwaway home.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-prof-keys-'));
for (const k of ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME']) process.env[k] = path.join(home, k);
const b = await startBenchServer();
try {
  const { ws, shell } = await shellViaServer(b);

  const names = ['whole round trip', 'client -> server', 'pty write', 'shell echo (kernel, bash)', 'read -> batch sent', 'server -> client'];
  const rows: number[][] = [];
  for (let i = 0; i < N; i++) {
    if (i > 0 && i % 50 === 0) await shell.exchange('\x15', ''); // Ctrl-U: the line never wraps
    const ch = String.fromCharCode(97 + (i % 26));
    for (const k of Object.keys(at) as (keyof typeof at)[]) delete at[k];
    const t0 = performance.now();
    await shell.exchange(ch, ch);
    const t1 = performance.now();
    const { write: w = NaN, written = NaN, output: o = NaN, flush: f = NaN } = at;
    rows.push([t1 - t0, w - t0, written - w, o - written, f - o, t1 - f]);
  }
  ws.close();
  const p99Whole = percentile(
    rows.map((r) => r[0]),
    99,
  );
  const slowest = rows.filter((r) => r[0] >= p99Whole);
  console.log(`${N} keystrokes; ms`);
  for (let k = 0; k < names.length; k++) {
    const col = rows.map((r) => r[k]);
    const slow = slowest.reduce((a, r) => a + r[k], 0) / slowest.length;
    console.log(
      `${names[k].padEnd(28)} p50 ${percentile(col, 50).toFixed(3)}  p99 ${percentile(col, 99).toFixed(3)}  mean in the slowest 1 %: ${slow.toFixed(3)}`,
    );
  }
} finally {
  await b.cleanup();
  fs.rmSync(home, { recursive: true, force: true });
}
