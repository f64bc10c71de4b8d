// One running (or exited) terminal: the node-pty process, its scrollback, and the clients
// attached to it. Output goes into the scrollback as it is read and fans out to every client in
// batches (see output()), so every client sees the same bytes in the same order, and a client
// attaching in between gets exactly the scrollback up to that point followed by everything after
// it (no gap, no duplicate).
//
// Flow control (flow.ts): after each batch sent, and whenever a client reports progress, the clients'
// pending bytes decide whether the pty is paused. node-pty's pause() only stops reading the pty
// master; the child blocks once the kernel's pty buffer is full, while input (writes to the master)
// and resize (an ioctl) go through as usual. drain.ts makes sure the output still buffered when a
// paused terminal's process exits is delivered.

import type { IPty } from 'node-pty';
import { drainOnEof } from './drain.js';
import { ScrollbackRing } from './ring.js';
import { processSessionAlive, signalProcessSession, type Signal } from './procs.js';
import { checkSize } from './validate.js';
import { FlowControl, type FlowSettings } from './flow.js';
import type { PtyInfo, PtyStatus } from './shapes.js';
import { CLOSE_TOO_SLOW, type AttachHandle, type PtyClient } from './types.js';

const POLL_MS = 25;
/**
 * While paused, how often the clients' pending bytes are re-read: for clients that do not report
 * progress (AttachHandle.drained) and to enforce the slow-client timeout.
 */
const FLOW_POLL_MS = 50;
/** Output batching (see output()): the most one frame carries, */
const MAX_BATCH_BYTES = 64 * 1024;
/** the read size that suggests a flood (a pty read is at most a few kB; an echo is a few bytes), */
const FLOOD_READ_BYTES = 2048;
/** how soon after the last send such a read counts as one, and how long it may wait for more. */
const FLOOD_MS = 2;
const FLOOD_HOLD_MS = 1;
/** After SIGKILL, how long to wait for the kernel to finish the job before giving up. */
const KILL_WAIT_MS = 2000;

export interface TerminalHooks {
  onUpdate(t: Terminal): void;
  onExit(t: Terminal): void;
}

export interface TerminalSettings {
  scrollbackBytes: number;
  flow: FlowSettings;
  killGraceMs: number;
}

type Meta = Omit<PtyInfo, 'pid' | 'status' | 'exitCode' | 'signal' | 'cols' | 'rows'>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Terminal {
  readonly id: string;
  private title: string;
  private cols: number;
  private rows: number;
  private status: PtyStatus = 'running';
  private exitCode: number | null = null;
  private signal: number | null = null;
  private readonly ring: ScrollbackRing;
  private readonly clients = new Set<PtyClient>();
  private readonly flow: FlowControl<PtyClient>;
  /** Whether node-pty's read side is paused (follows flow.isPaused while running). */
  private ptyPaused = false;
  private flowTimer: NodeJS.Timeout | undefined;
  /** Re-entrancy guard: closing an evicted client detaches it, which asks for another evaluation. */
  private flowBusy = false;
  private flowAgain = false;
  private ending: Promise<boolean> | null = null;
  /** Output read but not yet sent: flushed once per turn of the event loop (see output()). */
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private readonly flushBound = () => this.flush();
  /** performance.now() of the last flush that sent anything. */
  private lastFlushAt = -Infinity;
  /** Set once the whole process session was seen empty: from then on its pid may be reused, never signal it. */
  private processSessionGone = false;
  private readonly exitPromise: Promise<void>;
  private resolveExit!: () => void;

  constructor(
    private readonly pty: IPty,
    private readonly meta: Meta,
    size: { cols: number; rows: number },
    private readonly settings: TerminalSettings,
    private readonly hooks: TerminalHooks,
  ) {
    this.id = meta.id;
    this.title = meta.title;
    this.cols = size.cols;
    this.rows = size.rows;
    this.ring = new ScrollbackRing(settings.scrollbackBytes);
    this.flow = new FlowControl(settings.flow);
    this.exitPromise = new Promise((resolve) => (this.resolveExit = resolve));
    // Spawned with `encoding: null`, node-pty emits raw Buffers (its typings still say string).
    // Bytes are forwarded untouched, so a UTF-8 character split across two reads is reassembled
    // by the client's decoder instead of being replaced by U+FFFD here.
    pty.onData((data: unknown) => this.output(Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8')));
    drainOnEof(pty, (chunk) => this.output(chunk));
    // node-pty emits exit only after the pty's read side closed, i.e. after the last output.
    pty.onExit(({ exitCode, signal }) => this.exited(exitCode, signal ?? 0));
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** Real path of the directory it started in (scope checks). */
  get cwd(): string {
    return this.meta.cwd;
  }

  get running(): boolean {
    return this.status === 'running';
  }

  info(): PtyInfo {
    return {
      ...this.meta,
      args: [...this.meta.args],
      title: this.title,
      cols: this.cols,
      rows: this.rows,
      pid: this.pty.pid,
      status: this.status,
      exitCode: this.exitCode,
      signal: this.signal,
    };
  }

  setTitle(title: string): void {
    this.title = title;
  }

  /** Resize (validated by the caller). A no-op on an exited terminal: there is nothing to resize. */
  resize(cols: number, rows: number): void {
    if (!this.running) return;
    try {
      this.pty.resize(cols, rows);
    } catch {
      return; // The pty closed between the exit check and now (the exit event follows).
    }
    this.cols = cols;
    this.rows = rows;
  }

  write(data: string | Buffer): void {
    if (this.running) this.pty.write(data);
  }

  attach(client: PtyClient): AttachHandle {
    // The clients already here get what is batched; the scrollback, which already holds it, is
    // this one's: no byte twice, none missed.
    this.flush();
    const replay = this.ring.snapshot();
    let attached = true;
    if (this.running) this.clients.add(client);
    if (replay.length > 0 && !this.deliver(client, replay)) attached = false;
    if (!this.running) {
      // Already exited: replay, then report the exit at once.
      if (attached) this.notifyExit(client);
      attached = false;
    } else {
      this.updateFlow(); // A new client may start behind (the replay) or be the one others wait for.
    }
    return {
      write: (data) => {
        if (attached && this.clients.has(client)) this.write(data);
      },
      resize: (cols, rows) => {
        checkSize('cols', cols);
        checkSize('rows', rows);
        if (!attached || !this.clients.has(client) || !this.running) return;
        this.resize(cols, rows);
        this.hooks.onUpdate(this);
      },
      drained: () => {
        if (attached && this.ptyPaused) this.updateFlow();
      },
      detach: () => {
        attached = false;
        // Leaving may let the others go on (the slowest left, or the last one: no clients, no pause).
        if (this.clients.delete(client)) this.updateFlow();
      },
    };
  }

  /** Resolves when node-pty reported the process's exit. */
  waitExit(): Promise<void> {
    return this.exitPromise;
  }

  /**
   * End the terminal and everything in its process session: SIGHUP (what closing a terminal sends), then
   * SIGKILL to whatever is left after the grace period. Resolves true once the process has exited
   * and no process of its session is alive, false if that did not happen in time. Idempotent.
   */
  end(): Promise<boolean> {
    this.ending ??= (async () => {
      await this.signalAll('SIGHUP');
      if (await this.waitGone(this.settings.killGraceMs)) return true;
      await this.signalAll('SIGKILL');
      if (await this.waitGone(KILL_WAIT_MS)) return true;
      this.ending = null; // Let a later call try again.
      return false;
    })();
    return this.ending;
  }

  private async signalAll(signal: Signal): Promise<void> {
    if (this.processSessionGone) return;
    // The leader is a member of its own session, so this reaches it too. Not `kill(pid)` directly:
    // node-pty reaps the leader before it reports the exit, and a bare pid could by then be reused;
    // matching on the session id cannot hit an unrelated process (see procs.ts).
    await signalProcessSession(this.pty.pid, signal);
  }

  private async waitGone(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.processSessionGone) return true;
      if (!this.running && !(await processSessionAlive(this.pty.pid))) {
        this.processSessionGone = true;
        return true;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      // Wake early on the exit event: the common case is a shell that exits on SIGHUP at once.
      await Promise.race([this.exitPromise, sleep(Math.min(POLL_MS, left))]);
    }
  }

  /**
   * node-pty reads the pty a few kB at a time. Sending each read as its own WebSocket frame cost a
   * frame and a socket write per read, which was most of what streaming a flood cost: the reads
   * are batched instead. A small read (a keystroke's echo, a prompt) or the first read after a
   * quiet spell goes out on the next turn of the event loop (setImmediate: well under a
   * millisecond); a full-size read that follows a send within FLOOD_MS is a flood, and waits up to
   * FLOOD_HOLD_MS for more, up to MAX_BATCH_BYTES. The scrollback takes every read at once;
   * attach() and exited() flush first, so every client still sees each byte once, in order.
   */
  private output(chunk: Buffer): void {
    this.ring.push(chunk);
    if (this.clients.size === 0) return;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= MAX_BATCH_BYTES) return this.flush();
    if (this.batch.length > 1) return; // a flush is already scheduled
    const flood = chunk.length >= FLOOD_READ_BYTES && performance.now() - this.lastFlushAt < FLOOD_MS;
    if (flood) setTimeout(this.flushBound, FLOOD_HOLD_MS);
    else setImmediate(this.flushBound);
  }

  /** Sends the batched output to every client, then re-decides flow control. */
  private flush(): void {
    if (this.batch.length === 0) return;
    const data = this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes);
    this.batch = [];
    this.batchBytes = 0;
    this.lastFlushAt = performance.now();
    for (const client of [...this.clients]) this.deliver(client, data);
    this.updateFlow();
  }

  /** Send to one client. False if the client was dropped. */
  private deliver(client: PtyClient, data: Buffer): boolean {
    try {
      client.send(data);
      return true;
    } catch {
      this.clients.delete(client); // A broken client must not stop delivery to the others.
      return false;
    }
  }

  /** Pause or resume the pty, and evict a client that held the others back too long (flow.ts). */
  private updateFlow(): void {
    if (this.flowBusy) {
      this.flowAgain = true;
      return;
    }
    this.flowBusy = true;
    try {
      do {
        this.flowAgain = false;
        this.evaluateFlow();
      } while (this.flowAgain);
    } finally {
      this.flowBusy = false;
    }
  }

  private evaluateFlow(): void {
    if (!this.running) return;
    const pending: [PtyClient, number][] = [];
    let max = 0;
    for (const client of [...this.clients]) {
      try {
        const n = client.bufferedAmount();
        pending.push([client, n]);
        max = Math.max(max, n);
      } catch {
        this.clients.delete(client);
      }
    }
    // The common case, after every chunk while the clients keep up: running with nobody above the
    // high mark means "keep running" under flow.ts's rules, with nothing to track.
    if (!this.ptyPaused && max <= this.settings.flow.highWaterBytes) return;
    const verdict = this.flow.evaluate(pending, performance.now());
    for (const client of verdict.evict) {
      this.clients.delete(client);
      const secs = this.settings.flow.slowClientTimeoutMs / 1000;
      try {
        client.close(CLOSE_TOO_SLOW, `client too slow: held back the other clients of this terminal for over ${secs} s`);
      } catch {
        // Already closed.
      }
    }
    this.setPaused(verdict.paused);
  }

  private setPaused(paused: boolean): void {
    if (paused !== this.ptyPaused) {
      this.ptyPaused = paused;
      try {
        if (paused) this.pty.pause();
        else this.pty.resume();
      } catch {
        // The pty closed under us (its exit event follows).
      }
    }
    if (paused && !this.flowTimer) {
      this.flowTimer = setInterval(() => this.updateFlow(), FLOW_POLL_MS);
      this.flowTimer.unref();
    } else if (!paused && this.flowTimer) {
      clearInterval(this.flowTimer);
      this.flowTimer = undefined;
    }
  }

  private notifyExit(client: PtyClient): void {
    try {
      client.onExit?.(this.exitCode, this.signal);
    } catch {
      // A client's failure is its own.
    }
  }

  private exited(exitCode: number, signal: number): void {
    if (!this.running) return;
    this.status = 'exited';
    clearInterval(this.flowTimer); // The pty is closed: nothing left to pause or resume.
    this.flowTimer = undefined;
    // Like child_process: a process killed by a signal has no exit code, and vice versa.
    this.exitCode = signal > 0 ? null : exitCode;
    this.signal = signal > 0 ? signal : null;
    this.flush(); // the last output before the exit
    const clients = [...this.clients];
    this.clients.clear();
    for (const client of clients) this.notifyExit(client);
    this.resolveExit();
    this.hooks.onExit(this);
  }
}
