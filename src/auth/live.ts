// The server's live view of the token file. Each request calls `current()`, which costs one stat:
// when the file changed (inode, size, mtime, ctime), it is re-read synchronously, so a token
// deleted by `tether auth token delete` fails on the very next request. A file that turns bad
// while running keeps the last good state (never fails open) and is reported loudly.
import { currentStamp, readTokenFileSync } from './store.js';
import { TokenIndex } from './verify.js';
import { errorMessage } from '../errors.js';

export interface LiveTokensOptions {
  file: string;
  /** Called once per distinct bad version of the file. */
  onError?: (message: string) => void;
  onReload?: (index: TokenIndex) => void;
  warn?: (message: string) => void;
}

export class LiveTokens {
  private index: TokenIndex;
  private stamp: string | null;
  private lastError: string | null = null;

  /** Throws (StoreError) if the file cannot be read or is invalid: the server must not start. */
  constructor(private readonly opts: LiveTokensOptions) {
    const snap = readTokenFileSync(opts.file, opts.warn);
    this.index = new TokenIndex(snap.data);
    this.stamp = snap.stamp;
  }

  current(): TokenIndex {
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
      this.index = new TokenIndex(snap.data);
      this.stamp = snap.stamp;
      this.lastError = null;
      this.opts.onReload?.(this.index);
      return true;
    } catch (err) {
      this.report(errorMessage(err));
      return false;
    }
  }

  private report(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.opts.onError?.(`${message}; keeping the last good token list (${this.index.size} tokens) until it is fixed`);
  }
}
