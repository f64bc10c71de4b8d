// Output batching in Terminal (src/pty/terminal.ts): reads of a flood go out as few large sends,
// a keystroke's echo goes out at once, and batching never reorders, duplicates or drops a byte,
// whoever attaches while a batch is pending and whenever the process exits.
import type { IPty } from 'node-pty';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Terminal } from '../../src/pty/terminal.js';
import { recorder, waitFor } from './helpers.js';

/** A pty whose output the test emits by hand (no process, so no drain-on-EOF internals). */
function fakePty() {
  let onData: (d: Buffer) => void = () => {};
  let onExit: (e: { exitCode: number; signal?: number }) => void = () => {};
  const pty = {
    pid: 999_999_999,
    onData: (fn: (d: Buffer) => void) => ((onData = fn), { dispose() {} }),
    onExit: (fn: typeof onExit) => ((onExit = fn), { dispose() {} }),
    pause() {},
    resume() {},
    write() {},
    resize() {},
    kill() {},
  };
  return { pty: pty as unknown as IPty, emit: (d: Buffer) => onData(d), exit: (exitCode: number) => onExit({ exitCode }) };
}

function terminal(pty: IPty): Terminal {
  const meta = { id: 'pty_0000000000000000', title: 't', command: 'sh', args: [], cwd: '/', createdAt: new Date(0).toISOString(), ownerTokenId: null };
  return new Terminal(
    pty,
    meta,
    { cols: 80, rows: 24 },
    { scrollbackBytes: 1 << 20, killGraceMs: 100, flow: { highWaterBytes: 1 << 30, lowWaterBytes: 0, slowClientTimeoutMs: 10_000 } },
    { onUpdate() {}, onExit() {} },
  );
}

const read = (i: number, size = 4095) => Buffer.alloc(size, 65 + (i % 26));
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => vi.restoreAllMocks());

describe('output batching', () => {
  it('a burst of full-size reads goes out as few sends of at most 64 KiB, every byte in order', async () => {
    const { pty, emit } = fakePty();
    const t = terminal(pty);
    const c = recorder();
    t.attach(c);
    const reads = Array.from({ length: 200 }, (_, i) => read(i));
    for (const r of reads) emit(r); // one turn of the event loop, as node-pty's read loop can
    const total = reads.reduce((n, r) => n + r.length, 0);
    await waitFor(() => c.bytes().length === total, { what: 'the burst to be sent', timeout: 5000 });
    expect(c.bytes().equals(Buffer.concat(reads))).toBe(true);
    // 200 reads of 4 KiB: 13 sends of up to 64 KiB (+ one read), not 200.
    expect(c.chunks.length).toBeLessThanOrEqual(Math.ceil(total / (64 * 1024)) + 1);
    for (const chunk of c.chunks) expect(chunk.length).toBeLessThan(64 * 1024 + 4096);
  });

  it('a small read (an echo) is sent on the next turn of the event loop, not held for more', async () => {
    const { pty, emit } = fakePty();
    const t = terminal(pty);
    const c = recorder();
    t.attach(c);
    // Right after a flood's send: still an echo goes out at once.
    for (let i = 0; i < 20; i++) emit(read(i));
    await waitFor(() => c.bytes().length === 20 * 4095, { what: 'the flood' });
    emit(Buffer.from('x'));
    expect(c.text().endsWith('x')).toBe(false); // not synchronously: batched with its turn
    await nextTurn();
    expect(c.text().endsWith('x')).toBe(true);
  });

  it('full-size reads right after a send wait a moment for more (a flood), and still all arrive', async () => {
    // The terminal's clock moves 10 us per reading: "right after" whatever the machine's load.
    let clock = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => (clock += 0.01));
    const { pty, emit } = fakePty();
    const t = terminal(pty);
    const c = recorder();
    t.attach(c);
    emit(read(0));
    await nextTurn();
    expect(c.chunks.length).toBe(1); // the first read after quiet: at once
    // The hold's timer is faked from here on, so a turn of the event loop that takes longer than
    // the hold on a loaded machine cannot send read 1 alone (it did once in CI).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      emit(read(1));
      await nextTurn();
      // Not sent on the next turn, as a first read would be: held for more.
      expect(c.chunks.length).toBe(1);
      emit(read(2));
      vi.advanceTimersByTime(1);
    } finally {
      vi.useRealTimers();
    }
    // Both reads came within the flood window of the last send: held together, then sent as one.
    await waitFor(() => c.chunks.length === 2, { what: 'the held batch', timeout: 2000, interval: 1 });
    expect(c.chunks[1].equals(Buffer.concat([read(1), read(2)]))).toBe(true);
  });

  it('a client attaching while a batch is pending gets it once, in its replay; the others get it sent', async () => {
    const { pty, emit } = fakePty();
    const t = terminal(pty);
    const first = recorder();
    t.attach(first);
    emit(Buffer.from('before '));
    const second = recorder();
    t.attach(second); // 'before ' is pending for `first`, and already in the scrollback
    emit(Buffer.from('after'));
    await waitFor(() => first.text() === 'before after' && second.text() === 'before after', { what: 'both clients' });
    await nextTurn();
    expect(first.text()).toBe('before after');
    expect(second.text()).toBe('before after');
  });

  it('the last output, still batched, reaches every client before the exit does', () => {
    const { pty, emit, exit } = fakePty();
    const t = terminal(pty);
    const c = recorder();
    let textAtExit = '';
    c.onExit = (exitCode, signal) => {
      c.exit = { exitCode, signal };
      textAtExit = c.text();
    };
    t.attach(c);
    for (let i = 0; i < 5; i++) emit(read(i));
    emit(Buffer.from('bye'));
    exit(0);
    expect(c.exit).toEqual({ exitCode: 0, signal: null });
    expect(textAtExit.endsWith('bye')).toBe(true);
    expect(Buffer.from(textAtExit, 'utf8').length).toBe(5 * 4095 + 3);
  });
});
