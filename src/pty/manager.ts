// The terminal manager: creates terminals confined to the project, lists/resizes/kills them,
// attaches viewers, and on shutdown ends every process it started. No HTTP here: the server maps
// these methods to routes and WebSockets.
//
// A scoped caller passes its Place: it starts terminals only in a directory inside it, and lists
// and finds by id only the terminals whose working directory lies inside it (any other is "not
// found", exactly like an unknown id). Every event carries the terminal's directory as its place.
//
// Retention: an exited terminal stays listed (status 'exited', with its exit code and scrollback)
// so a client can still read how it ended, until it is killed (removed), until `exitedRetentionMs`
// (10 minutes) after it exited, or until more than `maxExited` exited terminals accumulate; then
// the oldest of them (by creation) are dropped. Each drop is a `pty.deleted` event.
// Each holds at most `scrollbackBytes`, so exited terminals cost at most maxExited x 1 MiB.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IPty } from 'node-pty';
import { NotFoundError, UnavailableError, UsageError, errorMessage } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Place } from '../fs/place.js';
import { childEnv } from '../proc/env.js';
import { trackProcessSession } from '../proc/registry.js';
import { Terminal, type TerminalSettings } from './terminal.js';
import type { FlowSettings } from './flow.js';
import { processSessionMembers } from './procs.js';
import { checkArgs, checkCommand, checkEnv, checkSize, checkTitle, resolveCommand, resolveCwd } from './validate.js';
import type { CreatePtyOptions, PtyInfo, UpdatePty } from './shapes.js';
import type { AttachHandle, PtyClient, PtyManagerOptions } from './types.js';

const MiB = 1024 * 1024;
const DEFAULTS = {
  cols: 80,
  rows: 24,
  scrollbackBytes: 1 * MiB,
  // Flow control (flow.ts). 1 MiB pending is about a second behind on a slow (~1 MB/s) link: enough
  // to keep a fast client busy between pauses, small enough that Ctrl-C shows soon after a flood.
  clientHighWaterBytes: 1 * MiB,
  clientLowWaterBytes: 256 * 1024,
  slowClientTimeoutMs: 10_000,
  maxExited: 16,
  exitedRetentionMs: 10 * 60_000,
  killGraceMs: 1000,
  disposeTimeoutMs: 5000,
};

/** Variables describing the server's own terminal, wrong for the new one (node-pty drops the same). */
const NOT_INHERITED = ['TMUX', 'TMUX_PANE', 'STY', 'WINDOW', 'WINDOWID', 'TERMCAP', 'COLUMNS', 'LINES'];

type PtyModule = typeof import('node-pty');
let ptyModule: Promise<PtyModule> | undefined;

/**
 * node-pty is a native addon: load it on first use so importing this module stays cheap. With
 * require, not import(): the CLI runs as a CommonJS bundle with a code cache (src/cli/code-cache.ts).
 */
function loadPty(): Promise<PtyModule> {
  ptyModule ??= Promise.resolve().then(() => createRequire(import.meta.url)('node-pty') as PtyModule);
  return ptyModule;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function flowSettings(options: PtyManagerOptions): FlowSettings {
  const lowWaterBytes = positiveInt('clientLowWaterBytes', options.clientLowWaterBytes, DEFAULTS.clientLowWaterBytes, 0);
  const highWaterBytes = positiveInt('clientHighWaterBytes', options.clientHighWaterBytes, DEFAULTS.clientHighWaterBytes);
  if (highWaterBytes <= lowWaterBytes) {
    throw new RangeError(`clientHighWaterBytes (${highWaterBytes}) must be above clientLowWaterBytes (${lowWaterBytes})`);
  }
  const slowClientTimeoutMs = positiveInt('slowClientTimeoutMs', options.slowClientTimeoutMs, DEFAULTS.slowClientTimeoutMs, 0);
  return { highWaterBytes, lowWaterBytes, slowClientTimeoutMs };
}

function newId(): string {
  return `pty_${randomBytes(8).toString('hex')}`;
}

export class PtyManager {
  private readonly projectDir: string;
  private readonly events: EventBus | undefined;
  private readonly defaultShell: string;
  private readonly settings: TerminalSettings;
  private readonly maxExited: number;
  private readonly exitedRetentionMs: number;
  private readonly now: () => number;
  /** When each listed exited terminal exited (by `now`). */
  private readonly exitedAt = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  /** Listed terminals, in creation order. */
  private readonly terminals = new Map<string, Terminal>();
  /**
   * Every terminal started whose process session has not yet been seen empty, listed or not: what
   * disposeAll ends. The value releases its record in the process registry (proc/registry.ts).
   */
  private readonly live = new Map<Terminal, () => void>();
  private closed = false;

  constructor(options: PtyManagerOptions) {
    if (typeof options.projectDir !== 'string' || options.projectDir === '') {
      throw new RangeError('projectDir must be a non-empty string');
    }
    this.projectDir = options.projectDir;
    this.events = options.events;
    this.defaultShell = options.defaultShell || process.env.SHELL || '/bin/bash';
    this.settings = {
      scrollbackBytes: positiveInt('scrollbackBytes', options.scrollbackBytes, DEFAULTS.scrollbackBytes),
      flow: flowSettings(options),
      killGraceMs: positiveInt('killGraceMs', options.killGraceMs, DEFAULTS.killGraceMs, 0),
    };
    this.maxExited = positiveInt('maxExited', options.maxExited, DEFAULTS.maxExited, 0);
    this.exitedRetentionMs = positiveInt('exitedRetentionMs', options.exitedRetentionMs, DEFAULTS.exitedRetentionMs, 0);
    this.now = options.now ?? Date.now;
    // Lists also sweep when read; this keeps watchers' lists (pty.deleted events) in step.
    this.sweeper = setInterval(() => this.sweepExited(), Math.max(1000, Math.min(60_000, this.exitedRetentionMs))).unref();
  }

  /** How long a client may hold the others back (flow control); also how long a closing one may stall. */
  get slowClientTimeoutMs(): number {
    return this.settings.flow.slowClientTimeoutMs;
  }

  async create(opts: CreatePtyOptions = {}, place?: Place): Promise<PtyInfo> {
    this.assertOpen();
    if (typeof opts !== 'object' || opts === null) throw new UsageError('terminal options must be an object');
    const cols = opts.cols === undefined ? DEFAULTS.cols : checkSize('cols', opts.cols);
    const rows = opts.rows === undefined ? DEFAULTS.rows : checkSize('rows', opts.rows);
    const command = opts.command === undefined ? this.defaultShell : checkCommand(opts.command);
    const args = opts.args === undefined ? [] : checkArgs(opts.args);
    const title = opts.title === undefined ? path.basename(command) : checkTitle(opts.title);
    const ownerTokenId = opts.ownerTokenId ?? null;
    if (ownerTokenId !== null && typeof ownerTokenId !== 'string') throw new UsageError('ownerTokenId must be a string or null');
    const env = this.buildEnv(opts.env === undefined ? {} : checkEnv(opts.env));
    const cwd = await resolveCwd(this.projectDir, opts.cwd ?? '.', place);
    await resolveCommand(command, cwd, env);
    const pty = await loadPty();
    // Re-check: disposeAll may have started while we awaited, and must not miss this process.
    this.assertOpen();

    let proc: IPty;
    try {
      // encoding null: raw Buffers out, so multi-byte characters split across reads survive.
      proc = pty.spawn(command, args, { name: env.TERM, cols, rows, cwd, env, encoding: null });
    } catch (err) {
      throw new UsageError(`could not start command "${command}": ${errorMessage(err)}`);
    }
    // Recorded before anything can await: the pid cannot have been reaped yet.
    const release = trackProcessSession(proc.pid, 'terminal');
    const id = newId();
    const meta = { id, title, command, args, cwd, createdAt: new Date().toISOString(), ownerTokenId };
    const terminal = new Terminal(proc, meta, { cols, rows }, this.settings, {
      onUpdate: (t) => this.publish(t, 'pty.updated', { info: t.info() }),
      onExit: (t) => this.onExit(t),
    });
    this.terminals.set(id, terminal);
    this.live.set(terminal, release);
    const info = terminal.info();
    this.publish(terminal, 'pty.created', { info });
    return info;
  }

  /** The terminals, or those inside `place`. */
  list(place?: Place): PtyInfo[] {
    this.sweepExited();
    return [...this.terminals.values()].filter((t) => visible(t, place)).map((t) => t.info());
  }

  /** Drops exited terminals older than exitedRetentionMs. */
  sweepExited(): void {
    const limit = this.now() - this.exitedRetentionMs;
    for (const [id, at] of this.exitedAt) if (at <= limit) this.drop(id);
  }

  private drop(id: string): void {
    this.exitedAt.delete(id);
    const t = this.terminals.get(id);
    if (t && this.terminals.delete(id)) this.publish(t, 'pty.deleted', { id });
  }

  /** One terminal; NotFoundError for an unknown id, and for one outside `place`. */
  get(id: string, place?: Place): PtyInfo {
    return this.find(id, place).info();
  }

  /** Resize and/or rename. Resizing an exited terminal is accepted and does nothing. */
  update(id: string, opts: UpdatePty, place?: Place): PtyInfo {
    const t = this.find(id, place);
    if (typeof opts !== 'object' || opts === null) throw new UsageError('terminal update must be an object');
    const cols = opts.cols === undefined ? undefined : checkSize('cols', opts.cols);
    const rows = opts.rows === undefined ? undefined : checkSize('rows', opts.rows);
    const title = opts.title === undefined ? undefined : checkTitle(opts.title);
    if (title !== undefined) t.setTitle(title);
    if (cols !== undefined || rows !== undefined) {
      const cur = t.info();
      t.resize(cols ?? cur.cols, rows ?? cur.rows);
    }
    const info = t.info();
    this.publish(t, 'pty.updated', { info });
    return info;
  }

  /**
   * Remove a terminal from the list at once and end its process and everything in its process session
   * (SIGHUP, then SIGKILL after `killGraceMs`). Resolves when they are gone (or after the kill
   * deadline; disposeAll retries). Attached clients get onExit when the process exits.
   */
  async kill(id: string, place?: Place): Promise<void> {
    const t = this.find(id, place);
    this.drop(id);
    await this.end(t);
  }

  /** Attach a viewer: it gets the scrollback, then live output, then onExit. See PtyClient. */
  attach(id: string, client: PtyClient): AttachHandle {
    return this.find(id).attach(client);
  }

  /**
   * Shutdown: end every terminal this manager started (listed, killed or exited, as long as any
   * process of its session may remain) and wait until their processes are gone, up to `timeoutMs`.
   * Afterwards the manager refuses to create terminals. Resolves with the pids still alive at the
   * deadline (normally none) so the caller can log them.
   */
  async disposeAll(timeoutMs = DEFAULTS.disposeTimeoutMs): Promise<{ remaining: number[] }> {
    this.closed = true;
    clearInterval(this.sweeper);
    const all = [...this.live.keys()];
    this.terminals.clear();
    this.exitedAt.clear();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([Promise.all(all.map((t) => this.end(t))), deadline]);
    } finally {
      clearTimeout(timer);
    }
    const remaining: number[] = [];
    for (const t of this.live.keys()) {
      const members = await processSessionMembers(t.pid);
      remaining.push(...(members ?? (t.running ? [t.pid] : [])));
    }
    return { remaining };
  }

  private async end(t: Terminal): Promise<void> {
    try {
      if (await t.end()) {
        this.live.get(t)?.();
        this.live.delete(t);
      }
    } catch {
      // Could not inspect the processes (e.g. /proc unreadable): keep it tracked for disposeAll.
    }
  }

  private onExit(t: Terminal): void {
    const { exitCode, signal } = t.info();
    this.publish(t, 'pty.exited', { id: t.id, exitCode, signal });
    if (this.terminals.has(t.id)) this.exitedAt.set(t.id, this.now());
    // The terminal's process session ends with it: reap background jobs it left behind so they do not
    // outlive the terminal as orphans (only a process that called setsid escapes on purpose).
    void this.end(t);
    this.pruneExited();
  }

  private pruneExited(): void {
    const exited = [...this.terminals.values()].filter((t) => !t.running);
    for (const t of exited.slice(0, Math.max(0, exited.length - this.maxExited))) this.drop(t.id);
  }

  private find(id: string, place?: Place): Terminal {
    const t = typeof id === 'string' ? this.terminals.get(id) : undefined;
    if (!t || !visible(t, place)) throw new NotFoundError(`terminal "${String(id).slice(0, 100)}" not found`);
    return t;
  }

  /** The one child environment (proc/env.ts: no TETHER_* of the server), plus the caller's additions. */
  private buildEnv(additions: Record<string, string>): Record<string, string> {
    // Our viewers are xterm.js; an explicit TERM in `env` still wins (e.g. TERM=dumb for scripts).
    return childEnv({ omit: NOT_INHERITED, add: { TERM: 'xterm-256color', ...additions } });
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError('the terminal manager is shut down', 'shutting_down');
  }

  /** Every event about a terminal carries its directory, for the scope filter of `GET /event`. */
  private publish(t: Terminal, type: string, properties: Record<string, unknown>): void {
    this.events?.publish(type, properties, t.cwd);
  }
}

function visible(t: Terminal, place: Place | undefined): boolean {
  return place === undefined || place.contains(t.cwd);
}
