import { ConflictError } from '../errors.js';

// One running request (shell command or agent prompt) per session. Two at once would interleave
// their messages and race on the same working tree, so the second is refused rather than queued:
// the client decides whether to wait or abort.

export interface RunHandle {
  /** Aborted by `abort(sessionId)`, by deleting the session, or by the caller's own signal. */
  readonly signal: AbortSignal;
  /** Releases the session. Idempotent; call it in a `finally`. */
  end(): void;
}

export class RunRegistry {
  private readonly runs = new Map<string, AbortController>();

  /** Throws ConflictError (409, `session_busy`) if the session already has a run. */
  begin(sessionId: string, parent?: AbortSignal): RunHandle {
    if (this.runs.has(sessionId)) {
      throw new ConflictError(
        `session "${sessionId}" is busy: another request (a shell command or an agent prompt) is running in it; ` +
          'abort it or wait for it to finish, then retry',
        'session_busy',
      );
    }
    const controller = new AbortController();
    this.runs.set(sessionId, controller);
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
        if (this.runs.get(sessionId) === controller) this.runs.delete(sessionId);
      },
    };
  }

  isBusy(sessionId: string): boolean {
    return this.runs.has(sessionId);
  }

  /**
   * Signals the session's run to stop; it stays busy until the run calls end() (a shell command
   * needs up to its kill grace period to die). Returns whether there was a run to abort.
   */
  abort(sessionId: string, reason = 'aborted by request'): boolean {
    const controller = this.runs.get(sessionId);
    if (!controller) return false;
    if (!controller.signal.aborted) controller.abort(new Error(reason));
    return true;
  }

  /** Aborts and forgets the session's run (the session is being deleted). */
  drop(sessionId: string): boolean {
    const had = this.abort(sessionId, 'session deleted');
    this.runs.delete(sessionId);
    return had;
  }
}
