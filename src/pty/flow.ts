// Flow control for one terminal's output: decides, from how many bytes each attached client still
// has pending, whether the pty should be paused and which client (if any) to close. Pure: no
// timers, no I/O; the caller passes the clock, so the rules are unit-tested with a fake one.
//
// The rules (README "Terminals"):
// - Pause when the slowest client has more than `highWaterBytes` pending; resume once every client
//   is at or below `lowWaterBytes`. So the program runs at the pace of its slowest viewer: a slow
//   link slows the program (a paused pty stops being read, and the child blocks once the kernel's
//   pty buffer is full) instead of losing output or buffering it without bound. This is stricter
//   than "pause only when every client is behind": with a fast and a slow client, not pausing
//   would leave the slow one's backlog growing at the program's full rate.
// - While paused, a client that is still above the low mark while at least one other client is
//   at or below it (waiting for output) is holding the others back. One that does so without a
//   break for `slowClientTimeoutMs` is evicted (closed with 4008), and the others go on. A client
//   that is slow while every client is behind is never evicted: the program just waits.
// - No clients: never paused (output goes to the scrollback only).

export interface FlowSettings {
  highWaterBytes: number;
  lowWaterBytes: number;
  slowClientTimeoutMs: number;
}

export interface FlowVerdict<C> {
  /** Whether the pty should be paused now (after the evictions). */
  paused: boolean;
  /** Clients to close now: each alone held the others back for longer than the timeout. */
  evict: C[];
}

export class FlowControl<C> {
  private paused = false;
  /** Clients holding the others back, and since when (the caller's clock). */
  private readonly holding = new Map<C, number>();

  constructor(private readonly settings: FlowSettings) {
    const { highWaterBytes: high, lowWaterBytes: low, slowClientTimeoutMs: timeout } = settings;
    if (!Number.isSafeInteger(low) || low < 0) throw new RangeError(`lowWaterBytes must be an integer >= 0, got ${low}`);
    if (!Number.isSafeInteger(high) || high <= low) throw new RangeError(`highWaterBytes must be an integer above lowWaterBytes (${low}), got ${high}`);
    if (!Number.isSafeInteger(timeout) || timeout < 0) throw new RangeError(`slowClientTimeoutMs must be an integer >= 0, got ${timeout}`);
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Since when (caller's clock) this client has been holding the others back, or null. */
  holdingSince(client: C): number | null {
    return this.holding.get(client) ?? null;
  }

  /** Decide from every attached client's pending bytes at time `now`. */
  evaluate(pending: ReadonlyArray<readonly [C, number]>, now: number): FlowVerdict<C> {
    const { highWaterBytes: high, lowWaterBytes: low, slowClientTimeoutMs: timeout } = this.settings;
    for (const c of this.holding.keys()) if (!pending.some(([p]) => p === c)) this.holding.delete(c);

    let max = 0;
    for (const [, n] of pending) max = Math.max(max, n);
    if (pending.length === 0) this.paused = false;
    else if (!this.paused && max > high) this.paused = true;
    else if (this.paused && max <= low) this.paused = false;

    if (!this.paused || !pending.some(([, n]) => n <= low)) {
      // Running, or everyone is behind: nobody is holding anybody back.
      this.holding.clear();
      return { paused: this.paused, evict: [] };
    }
    const evict: C[] = [];
    for (const [c, n] of pending) {
      if (n <= low) {
        this.holding.delete(c);
        continue;
      }
      const since = this.holding.get(c) ?? now;
      this.holding.set(c, since);
      if (now - since >= timeout) evict.push(c);
    }
    if (evict.length === 0) return { paused: true, evict };
    for (const c of evict) this.holding.delete(c);
    // Decide again without them: the others may all be ready to go on.
    const rest = this.evaluate(
      pending.filter(([c]) => !evict.includes(c)),
      now,
    );
    return { paused: rest.paused, evict: [...evict, ...rest.evict] };
  }
}
