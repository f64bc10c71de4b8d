// The running server's live view of the token file. `current()` stats the file (at most once per
// MAX_STALENESS_MS, so the requests in that interval share one syscall): when it changed (inode,
// size, mtime, ctime), it is re-read synchronously. Every write that takes something away waits
// out that interval before it returns (revocation.ts), so a token deleted by `tether auth token
// delete` fails on the next request after that command has exited.
// A token unknown to the current view makes the guard re-check at once (refresh()), so a token
// made an instant ago is never refused for this interval.
// A file that turns bad while running keeps the last good state (never fails open) and is reported
// loudly.
import { currentStamp, readTokenFileSync } from './token-file.js';
import { TokenIndex } from './verify.js';
import { errorMessage } from '../errors.js';
import { MAX_STALENESS_MS } from './revocation.js';

export interface LiveTokensOptions {
  file: string;
  /** Called once per distinct bad version of the file. */
  onError?: (message: string) => void;
  warn?: (message: string) => void;
  /** Default MAX_STALENESS_MS. */
  maxStalenessMs?: number;
}

export class LiveTokens {
  private index: TokenIndex;
  private stamp: string | null;
  private lastError: string | null = null;
  private checkedAt = -Infinity;
  /** Ids that were in one loaded version of the file and are missing from a later one. */
  private removed = new Set<string>();

  /** Throws (StoreError) if the file cannot be read or is invalid: the server must not start. */
  constructor(private readonly opts: LiveTokensOptions) {
    const snap = readTokenFileSync(opts.file, opts.warn);
    this.index = new TokenIndex(snap.data);
    this.stamp = snap.stamp;
  }

  /** The token file followed (share links are written to it through token-admin). */
  get file(): string {
    return this.opts.file;
  }

  /** `now`: the caller's Date.now() (the guard reads the clock once per request). A clock set back
   * re-checks at once, so the view is never older than the interval. */
  current(now = Date.now()): TokenIndex {
    if (now - this.checkedAt >= (this.opts.maxStalenessMs ?? MAX_STALENESS_MS) || now < this.checkedAt) {
      this.checkedAt = now;
      this.refresh();
    }
    return this.index;
  }

  /** The view as of now, whatever the interval: one stat. For the rare paths that decide on a token
   * outside the guard (a web login, a pairing's name check, an OAuth client's grants), where a
   * token or grant made an instant ago must count. */
  fresh(now = Date.now()): TokenIndex {
    this.checkedAt = now;
    this.refresh();
    return this.index;
  }

  /** Re-reads the file if it changed. Returns true when a new version was loaded. */
  refresh(): boolean {
    let stamp: string | null;
    try {
      stamp = currentStamp(this.opts.file);
    } catch (err) {
      this.report(`token file unreadable: ${errorMessage(err)}`);
      return false;
    }
    if (stamp === this.stamp) return false;
    try {
      const snap = readTokenFileSync(this.opts.file, this.opts.warn);
      const next = new TokenIndex(snap.data);
      // Diffed at every load, not at the next sweep: a token created and deleted between two sweeps
      // (its logins and tickets made in between) must still be reported gone.
      for (const r of this.index.records()) if (!next.get(r.id)) this.removed.add(r.id);
      this.index = next;
      this.stamp = snap.stamp;
      this.lastError = null;
      return true;
    } catch (err) {
      this.report(errorMessage(err));
      return false;
    }
  }

  /** Ids of the tokens deleted since the last call (each reported once). */
  takeRemoved(): Set<string> {
    const removed = this.removed;
    if (removed.size > 0) this.removed = new Set();
    return removed;
  }

  private report(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.opts.onError?.(`${message}; keeping the last good token list (${this.index.size} tokens) until it is fixed`);
  }
}
