// Flow control on real terminals (PtyManager + node-pty): a slow client pauses the program instead
// of being closed or buffered without bound; a client that alone holds the others back is closed
// after the timeout; input, resize and the exit path keep working while paused.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOSE_TOO_SLOW, PtyManager, type AttachHandle, type PtyManagerOptions } from '../../src/pty/index.js';
import { processSessionMembers } from '../../src/pty/procs.js';
import { readStat } from '../../src/proc/procfs.js';
import { recorder, script, tempProject, waitFor, type TestClient } from './helpers.js';

const HIGH = 64 * 1024;
const LOW = 16 * 1024;
/**
 * How far past the high mark a client's backlog may go: the chunk that crossed it (node-pty reads
 * at most 64 KiB), and at an exit while paused the stream's one buffered chunk and the kernel's
 * pty buffer (~16 KiB here).
 */
const SLACK = 192 * 1024;

let project: string;
let manager: PtyManager;
const timers: NodeJS.Timeout[] = [];

function makeManager(opts: Partial<PtyManagerOptions> = {}): PtyManager {
  manager = new PtyManager({ projectDir: project, killGraceMs: 200, clientHighWaterBytes: HIGH, clientLowWaterBytes: LOW, ...opts });
  return manager;
}

beforeEach(() => {
  project = tempProject();
  makeManager();
});

afterEach(async () => {
  for (const t of timers.splice(0)) clearInterval(t);
  const { remaining } = await manager.disposeAll();
  expect(remaining).toEqual([]);
  fs.rmSync(project, { recursive: true, force: true });
});

interface SlowClient extends TestClient {
  /** Largest backlog (bytes sent, not yet drained) seen at any send. */
  maxBuffered: number;
  /** Bytes drained so far. */
  drained: number;
  /** performance.now() when the backlog first went above the high mark. */
  behindSince: number | null;
  closedAt: number | null;
}

/** A client whose backlog grows with every send and shrinks only when `drain` says so. */
function slowClient(): SlowClient {
  const base = recorder({ grow: true });
  const c = base as SlowClient;
  c.maxBuffered = 0;
  c.drained = 0;
  c.behindSince = null;
  c.closedAt = null;
  const send = base.send.bind(base);
  c.send = (data) => {
    send(data);
    c.maxBuffered = Math.max(c.maxBuffered, c.buffered);
    if (c.buffered > HIGH) c.behindSince ??= performance.now();
  };
  const close = base.close.bind(base);
  c.close = (code, reason) => {
    close(code, reason);
    c.closedAt = performance.now();
  };
  return c;
}

/** Drain `c` at about `bytesPerSec`, telling the terminal as a WebSocket client would. */
function drainAt(c: SlowClient, h: AttachHandle, bytesPerSec: number): void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const n = Math.min(c.buffered, Math.ceil(((now - last) / 1000) * bytesPerSec));
    last = now;
    c.buffered -= n;
    c.drained += n;
    h.drained();
  }, 10);
  timers.push(timer);
}

/**
 * Waits until every process of the terminal's session has been asleep for 10 samples in a row
 * (200 ms): blocked writing to a pty nobody reads. Read continuously, the writer would be seen
 * running within that window.
 */
async function waitBlocked(sid: number): Promise<void> {
  let streak = 0;
  await waitFor(
    async () => {
      const members = (await processSessionMembers(sid)) ?? [];
      const asleep = members.length > 0 && members.every((pid) => readStat(pid)?.state === 'S');
      streak = asleep ? streak + 1 : 0;
      return streak >= 10;
    },
    { timeout: 10_000, interval: 20, what: 'the program to block on its output' },
  );
}

/** What `seq 1 n` prints through a pty (onlcr: "\n" becomes "\r\n"). */
function seqOutput(n: number): Buffer {
  const parts: string[] = [];
  for (let i = 1; i <= n; i++) parts.push(`${i}\r\n`);
  return Buffer.from(parts.join(''), 'latin1');
}

describe('flow control: one slow client', () => {
  it('pauses the program instead of losing output or buffering it; the program finishes', async () => {
    // A short timeout: a lone slow client must not be closed however long it stays behind.
    makeManager({ slowClientTimeoutMs: 100 });
    const n = 400_000; // ~3 MB
    const expected = seqOutput(n);
    const info = await manager.create(script(`seq 1 ${n}`));
    const c = slowClient();
    let exitDrained = -1;
    c.onExit = (exitCode, signal) => {
      c.exit = { exitCode, signal };
      exitDrained = c.drained;
    };
    const h = manager.attach(info.id, c);
    drainAt(c, h, 2_000_000);
    await waitFor(() => c.exit, { timeout: 30_000, what: 'the program to finish' });

    expect(c.exit).toEqual({ exitCode: 0, signal: null });
    expect(c.closed).toBeNull();
    expect(c.bytes().equals(expected)).toBe(true);
    // Bounded: the backlog never grew far past the high mark (without flow control: all 3 MB).
    expect(c.maxBuffered).toBeLessThanOrEqual(HIGH + SLACK);
    // Slowed, not killed: it could finish only once the client had nearly caught up.
    expect(exitDrained).toBeGreaterThanOrEqual(expected.length - HIGH - SLACK);
  });

  it('delivers the output a paused terminal still holds when its process exits', async () => {
    // Output that fits the kernel's pty buffer: the process exits while the terminal is paused,
    // and node-pty would drop what the stream and the kernel still hold (drain.ts recovers it).
    makeManager({ clientHighWaterBytes: 1024, clientLowWaterBytes: 0 });
    const info = await manager.create(script(`head -c 12000 /dev/zero | tr '\\0' z`));
    const c = slowClient(); // never drains
    manager.attach(info.id, c);
    await waitFor(() => c.exit, { timeout: 10_000, what: 'the exit while paused' });
    expect(c.exit).toEqual({ exitCode: 0, signal: null });
    expect(c.bytes().toString('latin1')).toBe('z'.repeat(12000));
    expect(c.closed).toBeNull();
  });

  it('still takes keystrokes while paused: Ctrl-C interrupts a flood nobody reads', async () => {
    const info = await manager.create({ command: 'yes' });
    const c = slowClient(); // never drains
    const h = manager.attach(info.id, c);
    await waitBlocked(info.pid);
    expect(c.buffered).toBeGreaterThan(HIGH);
    h.write('\x03');
    await waitFor(() => c.exit, { timeout: 10_000, what: 'yes to exit on SIGINT' });
    expect(c.exit).toEqual({ exitCode: null, signal: 2 });
    expect(c.closed).toBeNull();
    expect(c.maxBuffered).toBeLessThanOrEqual(HIGH + SLACK);
  });

  it('still resizes while paused', async () => {
    const info = await manager.create(script(`head -c 3000000 /dev/zero | tr '\\0' q; echo; stty size`, { cols: 80, rows: 24 }));
    const c = slowClient();
    const h = manager.attach(info.id, c);
    await waitBlocked(info.pid);
    // Paused, and the flood blocked on its output: `stty size` runs after this.
    expect(c.bytes().length).toBeLessThanOrEqual(HIGH + SLACK);
    h.resize(100, 40);
    expect(manager.get(info.id)).toMatchObject({ cols: 100, rows: 40, status: 'running' });
    drainAt(c, h, 50_000_000);
    await waitFor(() => c.exit, { timeout: 20_000, what: 'exit' });
    expect(c.text()).toMatch(/40 100\s*$/);
  });

  it('keeps running with no clients: the slow client leaving resumes the program', async () => {
    const info = await manager.create(script(`head -c 3000000 /dev/zero | tr '\\0' d; echo; echo END-$((2+3))`));
    const c = slowClient();
    const h = manager.attach(info.id, c);
    await waitFor(() => c.buffered > HIGH, { timeout: 10_000, what: 'the client to fall behind' });
    h.detach();
    await waitFor(() => manager.get(info.id).status === 'exited', { timeout: 20_000, what: 'the program to finish alone' });
    const late = recorder();
    manager.attach(info.id, late);
    expect(late.text()).toContain('END-5');
    expect(c.bytes().length).toBeLessThanOrEqual(HIGH + SLACK);
  });
});

describe('flow control: a client that holds the others back', () => {
  it('is closed with 4008 after the timeout, not before; the others get everything', async () => {
    const TIMEOUT = 600;
    makeManager({ slowClientTimeoutMs: TIMEOUT });
    const n = 300_000; // ~2.2 MB
    const expected = seqOutput(n);
    const info = await manager.create(script(`seq 1 ${n}`));
    const fast = recorder();
    const stalled = slowClient(); // never drains
    manager.attach(info.id, fast);
    manager.attach(info.id, stalled);
    await waitFor(() => stalled.closed, { timeout: 10_000, what: 'the stalled client to be closed' });
    expect(stalled.closed!.code).toBe(CLOSE_TOO_SLOW);
    expect(stalled.closed!.reason).toBe('client too slow: held back the other clients of this terminal for over 0.6 s');
    expect(stalled.closedAt! - stalled.behindSince!).toBeGreaterThanOrEqual(TIMEOUT - 1);
    const seen = stalled.chunks.length;

    await waitFor(() => fast.exit, { timeout: 20_000, what: 'the fast client to get the exit' });
    expect(fast.exit).toEqual({ exitCode: 0, signal: null });
    expect(fast.bytes().equals(expected)).toBe(true);
    expect(fast.closed).toBeNull();
    expect(stalled.chunks.length).toBe(seen); // detached: nothing more was sent
    expect(stalled.exit).toBeNull();
  });

  it('a slow client that keeps up well enough is never closed: the others go at its pace', async () => {
    makeManager({ slowClientTimeoutMs: 1500 });
    const n = 300_000;
    const expected = seqOutput(n);
    const info = await manager.create(script(`seq 1 ${n}`));
    const fast = recorder();
    const slow = slowClient();
    manager.attach(info.id, fast);
    const h = manager.attach(info.id, slow);
    // Each pause lasts (HIGH - LOW) / rate, about 50 ms here: far below the timeout.
    drainAt(slow, h, 1_000_000);
    await waitFor(() => fast.exit && slow.exit, { timeout: 30_000, what: 'both clients to get the exit' });
    expect(slow.closed).toBeNull();
    expect(slow.bytes().equals(expected)).toBe(true);
    expect(fast.bytes().equals(expected)).toBe(true);
    expect(slow.maxBuffered).toBeLessThanOrEqual(HIGH + SLACK);
  });
});

describe('flow control: settings', () => {
  it('refuses inconsistent marks, naming the options', () => {
    expect(() => makeManager({ clientHighWaterBytes: 1000, clientLowWaterBytes: 1000 })).toThrow(
      /clientHighWaterBytes \(1000\) must be above clientLowWaterBytes \(1000\)/,
    );
    expect(() => makeManager({ clientLowWaterBytes: -1 })).toThrow(/clientLowWaterBytes must be an integer >= 0/);
    expect(() => makeManager({ slowClientTimeoutMs: 1.5 })).toThrow(/slowClientTimeoutMs must be an integer >= 0/);
    makeManager();
  });
});
