// Token last-use tracking, off the request path: the guard calls `touch` (a Map write); a token's
// first use since start is logged and persisted about a second later, then at most once a minute;
// the file is written at most once every 5 seconds in all (it is shared with the CLI's writers).
// The client address of the latest use is kept with it (`auth token list` shows where a device was
// last seen).
import type { TokenRecord } from '../auth/shapes.js';
import { recordLastUsed } from '../auth/token-admin.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';

export class LastUsedTracker {
  private readonly pending = new Map<string, { at: number; from?: string }>();
  private readonly persistedAt = new Map<string, number>();
  private readonly seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private lastWriteAt = -Infinity;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly minIntervalMs = 60_000,
    private readonly debounceMs = 1_000,
    private readonly minGapMs = 5_000,
  ) {}

  touch(record: TokenRecord, address?: string, now = Date.now()): void {
    // Already pending: its write is scheduled (a later use could only make it due later), so only
    // the time and address move. This is every request of a busy client: no allocation, no timer.
    const pending = this.pending.get(record.id);
    if (pending !== undefined && address !== undefined) {
      pending.at = now;
      pending.from = address;
      return;
    }
    if (!this.seen.has(record.id)) {
      this.seen.add(record.id);
      this.log.log('info', 'token.first_use', { tokenId: record.id, name: record.name });
    }
    this.pending.set(record.id, address === undefined ? { at: now } : { at: now, from: address });
    const last = this.persistedAt.get(record.id) ?? -Infinity;
    const due = Math.max(now + this.debounceMs, last + this.minIntervalMs, this.lastWriteAt + this.minGapMs);
    this.schedule(due - now);
  }

  /** One timer for all tokens, moved earlier when a token is due sooner: another token's
   * once-a-minute wait must not hold back a first use (a newly paired device's above all). */
  private schedule(delay: number): void {
    const due = Date.now() + delay;
    if (this.timer && due >= this.timerDue) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      // The gap runs from the end of the last write (a slow lock or disk must not shorten it).
      const wait = this.lastWriteAt + this.minGapMs - Date.now();
      if (wait > 0 && this.pending.size > 0) return this.schedule(wait);
      void this.flush();
    }, delay);
    this.timer.unref();
  }

  /** Persists pending times (also on shutdown). Never throws: a failure is logged and retried later. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = new Map(this.pending);
      this.pending.clear();
      this.lastWriteAt = Date.now();
      try {
        await recordLastUsed(new Map([...batch].map(([id, use]) => [id, { ...use, at: new Date(use.at).toISOString() }])), this.file);
        const now = Date.now();
        this.lastWriteAt = now;
        for (const id of batch.keys()) this.persistedAt.set(id, now);
      } catch (err) {
        for (const [id, use] of batch) if (!this.pending.has(id)) this.pending.set(id, use);
        this.log.log('error', 'token.last_used_write_failed', { error: errorMessage(err) });
        this.schedule(this.minIntervalMs);
      }
    });
    return this.flushing;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }
}
