import { ConflictError, NotFoundError } from '../errors.js';
import type { EventBus, TetherEvent } from '../events.js';
import type { Message } from './types.js';

// Run bookkeeping: one running request (shell command or agent prompt) per session, and what the
// server must know about the runs it started. Two runs at once would interleave their messages and
// race on the same working tree, so the second is refused rather than queued: the client decides
// whether to wait or abort. A started run is followed until it settles, so that abort can wait for
// it to wind down, a revoked or expired token stops the runs it started, and shutdown aborts them
// all and lets them record their end before the database closes.

export interface RunHandle {
  /** Aborted by `abort(sessionId)`, by deleting the session, or by the caller's own signal. */
  readonly signal: AbortSignal;
  /** Releases the session. Idempotent; call it in a `finally`. */
  end(): void;
}

/**
 * Where a run is tied to the authority of the token that started it (the server's live-connection
 * table): `onGone` is called when the token is revoked or expires; the returned function unregisters.
 */
export interface RunLeases {
  add(tokenId: string | null, onGone: (reason: string) => void): () => void;
}

/** The reason a run was aborted, as a whole phrase that says so ("aborted by request"): the
 * message's stored error, shown as it is (never prefixed with "aborted" again). */
export class RunAborted extends Error {
  override readonly name = 'RunAborted';
}

export interface RunRegistryOptions {
  leases?: RunLeases;
  /** Told when a run is aborted because its token went away. */
  onLeaseLost?: (info: { sessionId: string; tokenId: string | null; reason: string }) => void;
}

export class RunRegistry {
  /** The session's current run, while it holds the session. */
  private readonly claims = new Map<string, AbortController>();
  /** Started runs until they settle (a deleted session's run stays here until it has wound down). */
  private readonly following = new Map<string, Promise<void>>();

  constructor(private readonly options: RunRegistryOptions = {}) {}

  /** Throws ConflictError (409, `session_busy`) if the session already has a run. */
  begin(sessionId: string, parent?: AbortSignal): RunHandle {
    if (this.claims.has(sessionId)) {
      throw new ConflictError(
        `session "${sessionId}" is busy: another request (a shell command or an agent prompt) is running in it; ` +
          'abort it or wait for it to finish, then retry',
        'session_busy',
      );
    }
    const controller = new AbortController();
    this.claims.set(sessionId, controller);
    // e.g. the HTTP request's signal, if the caller wants a disconnect to abort the run
    const onParentAbort = () => controller.abort(parent?.reason);
    if (parent?.aborted) controller.abort(parent.reason);
    else parent?.addEventListener('abort', onParentAbort, { once: true });

    let ended = false;
    return {
      signal: controller.signal,
      end: () => {
        if (ended) return;
        ended = true;
        parent?.removeEventListener('abort', onParentAbort);
        // The entry may already belong to a newer run if this one was dropped by delete().
        if (this.claims.get(sessionId) === controller) this.claims.delete(sessionId);
      },
    };
  }

  /**
   * Follows a started run until `done` settles: it lives no longer than the authority of the token
   * that started it, and `waitIdle` / `settled` wait for it.
   */
  follow(sessionId: string, tokenId: string | null, run: RunHandle, done: Promise<unknown>): void {
    const unregister = this.options.leases?.add(tokenId, (reason) => {
      this.abortRun(run);
      this.options.onLeaseLost?.({ sessionId, tokenId, reason });
    });
    const settled = done.then(
      () => {},
      () => {},
    );
    this.following.set(sessionId, settled);
    void settled.then(() => {
      unregister?.();
      if (this.following.get(sessionId) === settled) this.following.delete(sessionId);
    });
  }

  isBusy(sessionId: string): boolean {
    return this.claims.has(sessionId);
  }

  /**
   * Signals the session's run to stop; it stays busy until the run calls end() (a shell command
   * needs up to its kill grace period to die). Returns whether there was a run to abort.
   */
  abort(sessionId: string, reason = 'aborted by request'): boolean {
    const controller = this.claims.get(sessionId);
    if (!controller) return false;
    if (!controller.signal.aborted) controller.abort(new RunAborted(reason));
    return true;
  }

  /** Aborts and forgets the session's run (the session is being deleted). */
  drop(sessionId: string): boolean {
    const had = this.abort(sessionId, 'aborted because the session was deleted');
    this.claims.delete(sessionId);
    return had;
  }

  /** Waits, at most `timeoutMs`, for the session's followed run to settle. */
  async waitIdle(sessionId: string, timeoutMs: number): Promise<void> {
    const run = this.following.get(sessionId);
    if (run) await withTimeout(run, timeoutMs);
  }

  /** Aborts every run (shutdown) and waits, at most `timeoutMs`, for the followed ones to settle. */
  async abortAll(timeoutMs: number): Promise<void> {
    for (const sessionId of this.claims.keys()) this.abort(sessionId, 'aborted because the server is shutting down');
    await withTimeout(Promise.all(this.following.values()), timeoutMs);
  }

  /** Aborts this very run, if it still holds its session (not a newer run that followed it). */
  private abortRun(run: RunHandle): void {
    for (const [sessionId, controller] of this.claims) {
      if (controller.signal === run.signal) this.abort(sessionId, 'aborted because the token that started it was revoked or expired');
    }
  }
}

/**
 * Writes after an await: the session may have been deleted meanwhile (which also aborts its run).
 * `what` names what was running, for the error: "the command", "the agent".
 */
export function afterRun<T>(sessionId: string, what: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(`session "${sessionId}" was deleted while ${what} ran`, 'session_not_found');
    }
    throw err;
  }
}

/**
 * One session's events, collected from the moment its run claims the session (so nothing the run
 * publishes before its caller starts listening is lost) until closed: what a caller that asked for
 * a streamed response gets.
 */
export class RunEvents {
  private readonly buffer: TetherEvent[] = [];
  private listener: ((e: TetherEvent) => void) | null = null;
  private readonly unsubscribe: () => void;

  constructor(bus: EventBus, sessionId: string) {
    this.unsubscribe = bus.subscribe((e) => {
      if (e.properties.sessionId !== sessionId) return;
      if (!e.type.startsWith('message.') && e.type !== 'session.deleted') return;
      if (this.listener) this.listener(e);
      else this.buffer.push(e);
    });
  }

  /** Replays what was buffered, then delivers live. */
  listen(fn: (e: TetherEvent) => void): void {
    for (const e of this.buffer.splice(0)) fn(e);
    this.listener = fn;
  }

  close(): void {
    this.unsubscribe();
    this.listener = null;
    this.buffer.length = 0;
  }
}

/** A run that has started: every refusal is behind it. */
export interface StartedRun {
  /** The finished message. Rejects only with NotFoundError if the session was deleted meanwhile. */
  done: Promise<Message>;
  /** The run's events, if the caller asked to watch it (`watch: true`); close it when done. */
  events: RunEvents | null;
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
