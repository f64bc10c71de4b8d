// One audit event -> one line of text, and back. Pure.
//
// Writing: every string is capped (a command can be megabytes; a line must stay one small write),
// tether tokens inside strings are redacted (a command may carry one: `curl -H "Authorization:
// Bearer tether_..."`), and characters a terminal acts on are escaped, so `tail -f` of the file is
// as safe to read as `tether audit`. Reading: anything that is not one JSON object with a `time`
// and a `kind` (a torn last line after a crash) is not an event.
import { BASE_FIELDS, type AuditActor, type AuditEvent } from './kinds.js';

/** Longest string kept in a field; the rest is replaced by a note of how much was cut. */
export const MAX_FIELD_CHARS = 4096;
/** Longest array kept (a terminal's args). */
const MAX_ARRAY_ITEMS = 64;

/** A tether token (src/auth/token-format.ts: `tether_` + 28 base62 characters), and near misses. */
const TOKEN_PATTERN = /tether_[0-9A-Za-z]{20,}/g;
export const REDACTED_TOKEN = 'tether_[redacted]';

/** What JSON.stringify leaves raw but a terminal acts on (the same set as cli/sanitize.ts's safeJson). */
const JSON_UNSAFE = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function cleanString(s: string): string {
  const redacted = s.replace(TOKEN_PATTERN, REDACTED_TOKEN);
  if (redacted.length <= MAX_FIELD_CHARS) return redacted;
  return `${redacted.slice(0, MAX_FIELD_CHARS)}… [${redacted.length - MAX_FIELD_CHARS} more characters not logged]`;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth >= 3) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ARRAY_ITEMS).map((v) => clean(v, depth + 1));
    if (value.length > MAX_ARRAY_ITEMS) items.push(`[${value.length - MAX_ARRAY_ITEMS} more not logged]`);
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) out[cleanString(k)] = clean(v, depth + 1);
    return out;
  }
  return undefined; // functions, symbols, bigints: nothing an event carries
}

/** The line for one event, without its newline. The actor's fields come first and cannot be overwritten. */
export function formatLine(time: Date, kind: string, actor: AuditActor, details: object): string {
  const fields = clean(details, 0) as Record<string, unknown>;
  for (const k of BASE_FIELDS) delete fields[k];
  const event = {
    time: time.toISOString(),
    kind,
    tokenId: actor.tokenId === null ? null : cleanString(actor.tokenId),
    tokenName: actor.tokenName === null ? null : cleanString(actor.tokenName),
    address: cleanString(actor.address),
    ...fields,
  };
  return JSON.stringify(event).replace(JSON_UNSAFE, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** An event from one line, or null for anything else (torn, blank, foreign). */
export function parseLine(line: string): AuditEvent | null {
  if (line.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time)) || typeof e.kind !== 'string') return null;
  return {
    ...e,
    time: e.time,
    kind: e.kind,
    tokenId: typeof e.tokenId === 'string' ? e.tokenId : null,
    tokenName: typeof e.tokenName === 'string' ? e.tokenName : null,
    address: typeof e.address === 'string' ? e.address : '',
  };
}
