// Keeps authentication failures from flooding the log. Wraps the server's logger: `auth.failure`
// lines (from the guard and the web login alike) are counted per network key (see networkKey);
// the first `perKey` in a key's minute are logged as they come, the rest are counted and reported
// in one `auth.failure.summary` line for that key when its minute ends. At most `maxKeys` keys are
// tracked at once; failures from further keys (an attacker rotating IPv6 /64s) share one overflow
// summary. So the log grows by at most maxKeys * (perKey + 1) + 1 lines a minute, however many
// failures arrive. Every other event passes straight through.
import { networkKey } from '../auth/address.js';
import type { Logger, LogLevel } from '../log.js';

export const FAILURE_EVENT = 'auth.failure';
export const SUMMARY_EVENT = 'auth.failure.summary';

interface Window {
  start: number;
  logged: number;
  suppressed: number;
  level: LogLevel;
}

export interface FailureLogOptions {
  perKey?: number;
  windowMs?: number;
  maxKeys?: number;
  now?: () => number;
  /** How often ended windows are summarised; 0 = only on flush() (tests). */
  flushEveryMs?: number;
}

export interface CollapsingLogger extends Logger {
  /** Writes the summary of every window that has ended (all of them with `all`). */
  flush(all?: boolean): void;
  stop(): void;
}

const OVERFLOW_KEY = '(other networks)';

export function collapseAuthFailures(inner: Logger, opts: FailureLogOptions = {}): CollapsingLogger {
  const perKey = opts.perKey ?? 10;
  const windowMs = opts.windowMs ?? 60_000;
  const maxKeys = opts.maxKeys ?? 1000;
  const now = opts.now ?? Date.now;
  const windows = new Map<string, Window>();
  let overflow: (Window & { keys: Set<string> }) | undefined;

  const summarise = (key: string, w: Window, extra: Record<string, unknown> = {}) => {
    if (w.suppressed === 0) return;
    inner.log(w.level, SUMMARY_EVENT, {
      key,
      failures: w.logged + w.suppressed,
      notLoggedIndividually: w.suppressed,
      since: new Date(w.start).toISOString(),
      windowSeconds: Math.round(windowMs / 1000),
      ...extra,
    });
  };

  const flush = (all = false) => {
    const t = now();
    // Map order is start order (a window is added when it starts, removed when it ends).
    for (const [key, w] of windows) {
      if (!all && t - w.start < windowMs) break;
      summarise(key, w);
      windows.delete(key);
    }
    if (overflow && (all || t - overflow.start >= windowMs)) {
      summarise(OVERFLOW_KEY, overflow, { distinctKeys: overflow.keys.size, ...(overflow.keys.size >= 10_000 ? { distinctKeysAtLeast: true } : {}) });
      overflow = undefined;
    }
  };

  const timer = opts.flushEveryMs === 0 ? undefined : setInterval(() => flush(), opts.flushEveryMs ?? 5000);
  timer?.unref();

  return {
    log(level, event, fields = {}) {
      if (event !== FAILURE_EVENT) return inner.log(level, event, fields);
      const t = now();
      const key = networkKey(typeof fields.address === 'string' ? fields.address : 'unknown');
      let w = windows.get(key);
      if (w && t - w.start >= windowMs) {
        summarise(key, w);
        windows.delete(key);
        w = undefined;
      }
      if (!w) {
        if (windows.size >= maxKeys) flush();
        if (windows.size >= maxKeys) {
          if (overflow && t - overflow.start >= windowMs) flush();
          overflow ??= { start: t, logged: 0, suppressed: 0, level, keys: new Set() };
          overflow.suppressed++;
          if (overflow.keys.size < 10_000) overflow.keys.add(key);
          return;
        }
        w = { start: t, logged: 0, suppressed: 0, level };
        windows.set(key, w);
      }
      if (w.logged < perKey) {
        w.logged++;
        inner.log(level, event, fields);
      } else {
        w.suppressed++;
      }
    },
    flush,
    stop() {
      clearInterval(timer);
      flush(true);
    },
  };
}
