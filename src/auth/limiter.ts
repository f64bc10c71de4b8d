// Failed-authentication limiter: after `limit` failures within `windowMs` from one network (see
// networkKey: all of loopback is one key, IPv4 per address, IPv6 per /64), further failures from it
// get 429 until its window ends. Successes are never throttled.
//
// Memory is bounded at `maxKeys` entries, and a throttled entry is never evicted (otherwise an
// attacker could flood fresh keys to push its own throttled key out and start over). When the
// table is full, the least recently failing *unthrottled* key makes room. When every entry is
// throttled, a new key cannot be remembered, so it is treated as throttled too, until the earliest
// throttled window ends: under that much pressure wrong credentials from new networks wait (fail
// closed); valid tokens still work, since successes never consult the limiter.
import { networkKey } from './address.js';

interface Entry {
  windowStart: number;
  failures: number;
}

/** At most one scan for expired throttled entries per this many ms (each key checks its own). */
const RELEASE_SCAN_MS = 1000;

export class FailureLimiter {
  /** Not throttled; Map order is least recently failed first, the eviction order. */
  private readonly open = new Map<string, Entry>();
  /** Over the limit until their window ends; never evicted. */
  private readonly throttled = new Map<string, Entry>();
  /** No throttled window ends before this (a lower bound; Infinity when none). */
  private nextRelease = Infinity;
  private lastScan = -Infinity;

  constructor(
    private readonly limit = 30,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key failures from `address` count under. */
  static key(address: string): string {
    return networkKey(address);
  }

  /** Records one failure; returns seconds to wait if the address's network is now over the limit, else 0. */
  fail(address: string): number {
    const t = this.now();
    const key = networkKey(address);
    this.releaseExpired(t);

    let e = this.throttled.get(key);
    if (e && t - e.windowStart < this.windowMs) {
      e.failures++;
      return this.retryAfter(e, t);
    }
    if (e) this.throttled.delete(key);

    e = this.open.get(key);
    this.open.delete(key);
    if (!e || t - e.windowStart >= this.windowMs) {
      if (this.size >= this.maxKeys && !this.evictOneOpen() && !this.releaseExpired(t, true)) {
        // Full of throttled networks: the newcomer waits with them (see the header comment).
        return Math.max(1, Math.ceil((this.nextRelease - t) / 1000));
      }
      e = { windowStart: t, failures: 0 };
    }
    e.failures++;
    if (e.failures > this.limit) {
      this.throttled.set(key, e);
      this.nextRelease = Math.min(this.nextRelease, e.windowStart + this.windowMs);
      return this.retryAfter(e, t);
    }
    // Re-inserted at the end: Map order stays least recently failed first.
    this.open.set(key, e);
    return 0;
  }

  /** Whether failures from `address` are currently answered 429. */
  isThrottled(address: string): boolean {
    const e = this.throttled.get(networkKey(address));
    return e !== undefined && this.now() - e.windowStart < this.windowMs;
  }

  get size(): number {
    return this.open.size + this.throttled.size;
  }

  get throttledCount(): number {
    return this.throttled.size;
  }

  private retryAfter(e: Entry, t: number): number {
    return Math.max(1, Math.ceil((e.windowStart + this.windowMs - t) / 1000));
  }

  private evictOneOpen(): boolean {
    const oldest = this.open.keys().next();
    if (oldest.done) return false;
    this.open.delete(oldest.value);
    return true;
  }

  /** Frees throttled entries whose window has ended (at most one scan a second unless forced); true if any were. */
  private releaseExpired(t: number, force = false): boolean {
    if (t < this.nextRelease || (!force && t - this.lastScan < RELEASE_SCAN_MS)) return false;
    this.lastScan = t;
    const before = this.throttled.size;
    let next = Infinity;
    for (const [key, e] of this.throttled) {
      const end = e.windowStart + this.windowMs;
      if (end <= t) this.throttled.delete(key);
      else next = Math.min(next, end);
    }
    this.nextRelease = next;
    return this.throttled.size < before;
  }
}
