// Whole-process: `yes` in a terminal of a real `tether serve`, watched by one slow WebSocket reader
// (1 MB/s) for 15 s. Flow control paces `yes` to the reader: the server's memory stays bounded, the
// reader is never closed, and what it gets is exactly `yes`'s output, nothing skipped.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { connect, throttle, type TermClient } from '../pty-routes/helpers.js';

const FLOOD_MS = 15_000;
const RATE = 1_000_000;
/** Allowed growth of the server's resident memory over the flood (without flow control: ~100 MB/s). */
const MAX_GROWTH = 48 * 1024 * 1024;

let t: TempEnv;
let child: ChildProcess | undefined;
let client: TermClient | undefined;
let stop: (() => void) | undefined;

beforeEach(() => {
  t = tempEnv();
  fs.mkdirSync(path.join(t.root, 'project'));
});

afterEach(async () => {
  stop?.();
  client?.ws.terminate();
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  t.cleanup();
});

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(kb![1]) * 1024;
}

describe('a flood with one slow reader', () => {
  it('keeps the server memory bounded and the reader connected, losing nothing', { timeout: 90_000 }, async () => {
    child = spawnCli(['serve', '--port', '0', '--project', path.join(t.root, 'project')], t.env);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 20_000, what: `serve to listen (stderr: ${err})` });
    const created = await runCli(['auth', 'token', 'create', '--json', '--permissions', 'all'], t.env);
    const { token } = JSON.parse(created.stdout) as { token: string };
    const res = await fetch(`${url}/pty`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      // Starts on Enter, so nothing is produced before the reader is attached.
      body: JSON.stringify({ command: 'bash', args: ['--norc', '--noprofile', '-c', 'read -r _; exec yes'] }),
    });
    expect(res.status).toBe(201);
    const info = (await res.json()) as { id: string };

    const c = (client = await connect(`${url.replace(/^http/, 'ws')}/pty/${info.id}/connect`, { token, paused: true }));
    // Checked as it arrives: the echoed Enter, then "y\r\n" over and over, nothing skipped.
    const expected = Buffer.from('y\r\n');
    let pos = -2;
    let received = 0;
    let wrong: string | null = null;
    c.ws.on('message', (d: Buffer, binary) => {
      if (!binary) return;
      received += d.length;
      for (const byte of d) {
        const want = pos < 0 ? (pos === -2 ? 0x0d : 0x0a) : expected[pos % 3];
        if (byte !== want && wrong === null) wrong = `byte ${received - d.length} is ${byte}, expected ${want}`;
        pos++;
      }
    });
    let rate = RATE;
    stop = throttle(c, () => rate);

    const pid = child.pid!;
    const baseline = rssBytes(pid);
    let peak = baseline;
    c.type('\r');
    const end = Date.now() + FLOOD_MS;
    await waitFor(
      () => {
        peak = Math.max(peak, rssBytes(pid));
        return Date.now() >= end || c.closed;
      },
      { timeout: FLOOD_MS + 10_000, interval: 100, what: 'the flood to run its time' },
    );
    expect(c.closed).toBeNull();
    expect(wrong).toBeNull();
    console.log(
      `pty-flood: server RSS ${(baseline / 2 ** 20).toFixed(1)} MiB -> peak ${(peak / 2 ** 20).toFixed(1)} MiB; reader got ${received} bytes in ${FLOOD_MS / 1000} s`,
    );
    expect(peak - baseline, `RSS ${baseline} -> peak ${peak}; received ${received} bytes`).toBeLessThan(MAX_GROWTH);
    // It kept reading all along (about RATE x 15 s; less on a loaded machine).
    expect(received).toBeGreaterThan(2_000_000);

    // The program was slowed, not killed: Ctrl-C still reaches it and it ends.
    c.type('\x03');
    rate = 100_000_000;
    const closed = await c.waitClose(30_000);
    expect(closed).toEqual({ code: 1000, reason: 'signal:2' });
    expect(c.controls).toEqual([{ type: 'exit', exitCode: null, signal: 2 }]);
  });
});
