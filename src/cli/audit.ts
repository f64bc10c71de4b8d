// `tether audit`: the audit log as a table or JSON lines, read straight from the file (like `auth
// token list` reads the token file): it works while the server is down or unreachable, which is
// when one needs it most, and `--follow` tails the file itself, across rotation. Everything in the
// log may be attacker-controlled text (commands, paths, names): printed through the sanitiser.
import type { AuditEvent } from '../audit/kinds.js';
import { defaultAuditDir } from '../audit/log.js';
import { followAudit } from '../audit/follow.js';
import { matches, parseAuditQuery } from '../audit/query.js';
import { readAudit } from '../audit/reader.js';
import { dim, table } from './output.js';
import { safeJson, visible } from './sanitize.js';

export interface AuditOptions {
  since?: string;
  token?: string;
  kind?: string;
  limit?: string;
  follow?: boolean;
  json?: boolean;
}

const BASE = new Set(['time', 'kind', 'tokenId', 'tokenName', 'address']);

/** `2026-11-27 09:20:31Z`. */
function time(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ') + 'Z';
}

function who(e: AuditEvent): string {
  if (e.tokenName && e.tokenId) return `${e.tokenName} (${e.tokenId})`;
  return e.tokenName ?? e.tokenId ?? '-';
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** The kind's own fields, `key=value`, one line. */
export function what(e: AuditEvent): string {
  return Object.entries(e)
    .filter(([k, v]) => !BASE.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
}

/** One row, every cell shown through the sanitiser (one line each, control characters visible). */
export function row(e: AuditEvent): string[] {
  return [time(e.time), e.kind, who(e), e.address, what(e)].map((c) => visible(c));
}

const HEADERS = ['TIME', 'KIND', 'TOKEN', 'ADDRESS', 'WHAT'];
/** Column widths while following (rows arrive one by one, so the table cannot size itself). */
const FOLLOW_WIDTHS = [21, 20, 28, 15];

function followLine(cells: string[]): string {
  return cells.map((c, i) => (i < FOLLOW_WIDTHS.length ? c.padEnd(FOLLOW_WIDTHS[i]!) : c)).join('  ') + '\n';
}

export async function auditCommand(opts: AuditOptions): Promise<void> {
  const query = parseAuditQuery(opts, { since: '--since', token: '--token', kind: '--kind', limit: '--limit' });
  const dir = defaultAuditDir();
  const result = await readAudit(dir, query);
  const out = process.stdout;
  if (opts.json) {
    for (const e of result.events) out.write(safeJson(e) + '\n');
  } else if (opts.follow) {
    out.write(followLine(HEADERS));
    for (const e of result.events) out.write(followLine(row(e)));
  } else if (result.events.length === 0) {
    out.write(`No audit events${opts.since || opts.token || opts.kind ? ' match' : ' yet'}. ${dim(`(log: ${dir})`)}\n`);
  } else {
    out.write(table(HEADERS, result.events.map(row)));
  }
  const notes: string[] = [];
  if (result.truncated) notes.push(`showing the newest ${query.limit} matching events; use --limit or --since for others`);
  if (result.skippedLines > 0) notes.push(`${result.skippedLines} line(s) that are not events were skipped (a torn line after a crash)`);
  for (const n of notes) process.stderr.write(`tether: ${n}\n`);
  if (!opts.follow) return;

  // Until interrupted: Ctrl-C ends the command normally.
  await new Promise<void>((resolve) => {
    const follower = followAudit({
      dir,
      from: result.position,
      onEvent: (e) => {
        if (!matches(e, query)) return;
        out.write(opts.json ? safeJson(e) + '\n' : followLine(row(e)));
      },
      onSkip: () => process.stderr.write('tether: skipped a line that is not an event (a torn line after a crash)\n'),
    });
    const stop = () => {
      follower.stop();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
