// Failed-authentication limiter: after `limit` failures within `windowMs` from one address, further
// failures from it get 429 until the window ends. Successes are never throttled. Memory is bounded:
// at most `maxAddresses` entries, the oldest evicted first.

interface Entry {
  windowStart: number;
  failures: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limit = 30,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one failure; returns seconds to wait if the address is now over the limit, else 0. */
  fail(address: string): number {
    const t = this.now();
    let e = this.entries.get(address);
    if (!e || t - e.windowStart >= this.windowMs) {
      e = { windowStart: t, failures: 0 };
    }
    e.failures++;
    // Re-insert so Map order is least-recently-failed first, then trim to the bound.
    this.entries.delete(address);
    this.entries.set(address, e);
    while (this.entries.size > this.maxAddresses) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return e.failures > this.limit ? Math.max(1, Math.ceil((e.windowStart + this.windowMs - t) / 1000)) : 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
