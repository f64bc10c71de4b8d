// One running (or exited) terminal: the node-pty process, its scrollback, and the clients
// attached to it. Output fans out synchronously from node-pty's data event, so every client sees
// the same bytes in the same order, and a client attaching in between two chunks gets exactly
// the scrollback up to that point followed by everything after it (no gap, no duplicate).

import type { IPty } from 'node-pty';
import { drainOnEof } from './drain.js';
import { ScrollbackRing } from './ring.js';
import { processSessionAlive, signalProcessSession, type Signal } from './procs.js';
import { checkSize } from './validate.js';
import type { PtyInfo, PtyStatus } from './shapes.js';
import { CLOSE_TOO_SLOW, type AttachHandle, type PtyClient } from './types.js';

const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to finish the job before giving up. */
const KILL_WAIT_MS = 2000;

export interface TerminalHooks {
  onUpdate(t: Terminal): void;
  onExit(t: Terminal): void;
}

export interface TerminalSettings {
  scrollbackBytes: number;
  clientBufferLimit: number;
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
  private ending: Promise<boolean> | null = null;
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
    const replay = this.ring.snapshot();
    let attached = true;
    if (this.running) this.clients.add(client);
    if (replay.length > 0 && !this.deliver(client, replay)) attached = false;
    if (!this.running) {
      // Already exited: replay, then report the exit at once.
      if (attached) this.notifyExit(client);
      attached = false;
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
      detach: () => {
        attached = false;
        this.clients.delete(client);
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

  private output(chunk: Buffer): void {
    this.ring.push(chunk);
    for (const client of [...this.clients]) this.deliver(client, chunk);
  }

  /** Send to one client, then enforce its buffer limit. False if the client was dropped. */
  private deliver(client: PtyClient, data: Buffer): boolean {
    let buffered: number;
    try {
      client.send(data);
      buffered = client.bufferedAmount();
    } catch {
      this.clients.delete(client); // A broken client must not stop delivery to the others.
      return false;
    }
    const limit = this.settings.clientBufferLimit;
    if (buffered <= limit) return true;
    // Too slow: close it rather than buffer without bound or hold back the others (a pty cannot
    // be paused for one viewer). The client can reconnect and get the scrollback.
    this.clients.delete(client);
    try {
      client.close(CLOSE_TOO_SLOW, `client too slow: output buffer exceeded ${limit} bytes`);
    } catch {
      // Already closed.
    }
    return false;
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
    // Like child_process: a process killed by a signal has no exit code, and vice versa.
    this.exitCode = signal > 0 ? null : exitCode;
    this.signal = signal > 0 ? signal : null;
    const clients = [...this.clients];
    this.clients.clear();
    for (const client of clients) this.notifyExit(client);
    this.resolveExit();
    this.hooks.onExit(this);
  }
}
