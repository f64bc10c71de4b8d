// The audit filters `tether audit` and GET /audit share: --since, --token, --kind, --limit. Parsed
// from text here, with messages that name the flag (or query parameter) and what it accepts. Pure.
import { UsageError } from '../errors.js';
import { AUDIT_GROUPS, AUDIT_KINDS, type AuditEvent } from './kinds.js';

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;

export interface AuditQuery {
  /** Epoch ms: events at or after it. */
  since?: number;
  /** A token id or name. */
  token?: string;
  /** Exact kinds and group prefixes (`pty.`); empty: every kind. */
  kinds: string[];
  /** The newest this many matching events. */
  limit: number;
}

/** Raw values as the CLI flags or query parameters give them. */
export interface AuditQueryInput {
  since?: string | undefined;
  token?: string | undefined;
  kind?: string | undefined;
  limit?: string | undefined;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const MAX_TEXT = 200;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** `30m`, `1h`, `7d`, `2w`, `45s`, or an ISO 8601 date or time. */
export function parseSince(spec: string, name: string, now = Date.now()): number {
  const s = spec.trim();
  const m = /^(\d{1,7})([smhdw])$/.exec(s);
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
    const t = Date.parse(s);
    if (!Number.isNaN(t)) return t;
  }
  throw new UsageError(
    `${name} must be a duration back from now (a whole number and s, m, h, d or w: 30m, 1h, 7d) or an ISO 8601 date or time (2026-01-31, 2026-01-31T12:00Z), not ${JSON.stringify(spec.slice(0, 80))}`,
  );
}

/** Comma-separated kinds (`pty.start`) or groups (`pty`: every `pty.*` kind). */
export function parseKinds(spec: string, name: string): string[] {
  const out: string[] = [];
  for (const raw of spec.split(',')) {
    const k = raw.trim();
    if ((AUDIT_KINDS as readonly string[]).includes(k)) out.push(k);
    else if (AUDIT_GROUPS.includes(k)) out.push(`${k}.`);
    else {
      throw new UsageError(
        `${name}: unknown kind ${JSON.stringify(k.slice(0, 80))}; give one or more, comma-separated, of the kinds ${AUDIT_KINDS.join(', ')} ` +
          `or the groups ${AUDIT_GROUPS.join(', ')}`,
      );
    }
  }
  return out;
}

export function parseLimit(spec: string, name: string): number {
  if (!/^\d{1,6}$/.test(spec.trim()) || Number(spec) < 1 || Number(spec) > MAX_LIMIT) {
    throw new UsageError(`${name} must be a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(spec.slice(0, 80))}`);
  }
  return Number(spec);
}

function parseToken(spec: string, name: string): string {
  if (spec === '' || spec.length > MAX_TEXT || CONTROL.test(spec)) {
    throw new UsageError(`${name} must be a token id or name (1 to ${MAX_TEXT} characters, no control characters)`);
  }
  return spec;
}

/**
 * The query from raw values. `names` says how each is called where it came from (`--since` for the
 * CLI, `since` for the query string), for the messages.
 */
export function parseAuditQuery(input: AuditQueryInput, names: Record<keyof AuditQueryInput, string>, now = Date.now()): AuditQuery {
  return {
    ...(input.since !== undefined ? { since: parseSince(input.since, names.since, now) } : {}),
    ...(input.token !== undefined ? { token: parseToken(input.token, names.token) } : {}),
    kinds: input.kind !== undefined ? parseKinds(input.kind, names.kind) : [],
    limit: input.limit !== undefined ? parseLimit(input.limit, names.limit) : DEFAULT_LIMIT,
  };
}

export function matches(e: AuditEvent, q: Omit<AuditQuery, 'limit'>): boolean {
  if (q.since !== undefined && Date.parse(e.time) < q.since) return false;
  if (q.token !== undefined && e.tokenId !== q.token && e.tokenName !== q.token) return false;
  if (q.kinds.length > 0 && !q.kinds.some((k) => (k.endsWith('.') ? e.kind.startsWith(k) : e.kind === k))) return false;
  return true;
}
