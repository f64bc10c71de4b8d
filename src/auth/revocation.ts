// When a change to the token file reaches every running server. A server keeps its view of the file
// for at most MAX_STALENESS_MS (live-tokens.ts: one stat per interval, off most requests), so a
// write that takes anything away (a token deleted, its permissions, scopes, expiry or target
// changed) reports success only after that interval has passed since the new file landed
// (token-file.ts waits REVOCATION_SETTLE_MS). From then on every server's next request re-checks:
// `tether auth token delete` exiting, or an HTTP revoke answering, means the token is refused
// everywhere, whichever server it is sent to, by a rule rather than by how long a process takes to
// exit. Writes that only add tokens or record last use do not wait: a token no view knows makes
// the guard re-check the file at once.
import type { TokenFile } from './token-record.js';
import type { TokenRecord } from './shapes.js';

/** How stale a running server's view of the token file may be, in ms. */
export const MAX_STALENESS_MS = 20;

/** How long a write that takes something away waits after it landed before it returns. More than
 * the interval: the servers read a wall clock in whole milliseconds, the wait is monotonic. */
export const REVOCATION_SETTLE_MS = MAX_STALENESS_MS + 5;

/** Fields a server records as a token is used; a change to them takes nothing away. */
const USE_FIELDS: ReadonlySet<string> = new Set(['lastUsedAt', 'lastUsedFrom']);

/** Whether `after` takes away anything `before` granted: a token gone, or changed in anything but
 * its last use. Pure. A renamed token counts too (the name shows in whoami and the audit log). */
export function takesAway(before: TokenFile, after: TokenFile): boolean {
  const next = new Map(after.tokens.map((t) => [t.id, t]));
  for (const t of before.tokens) {
    const n = next.get(t.id);
    if (n === undefined || grantOf(t) !== grantOf(n)) return true;
  }
  return false;
}

/** A record without its use fields, as canonical JSON (keys sorted at every depth). */
function grantOf(record: TokenRecord): string {
  return canonical(Object.fromEntries(Object.entries(record).filter(([k]) => !USE_FIELDS.has(k))));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Resolves once at least `ms` have passed on the monotonic clock (a timer alone may fire up to a
 * millisecond early: libuv measures from the loop's cached time). */
export async function settle(ms = REVOCATION_SETTLE_MS): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) await new Promise((r) => setTimeout(r, Math.ceil(left)));
}
