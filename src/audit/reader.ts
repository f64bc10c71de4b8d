// Reading the audit log: every file, oldest to newest, torn or foreign lines skipped and counted,
// filtered, the newest `limit` matches kept. Used by `tether audit` (straight from the file: it
// works while the server is down) and by GET /audit.
//
// The files are opened newest first and told apart by inode, so a rotation while we read shifts no
// line out of sight: a file renamed after we opened it is still the one we read, and a name that now
// points at a file already read is skipped. Each stays open until the read ends: a deleted file's
// inode number goes to the next new file at once (ext4), which would then look like one read.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StoreError, errorMessage } from '../errors.js';
import { parseLine } from './format.js';
import type { AuditEvent } from './kinds.js';
import { matches, type AuditQuery } from './query.js';

/** At most this much of one file is read (its end): a file that outgrew rotation stays readable. */
const MAX_READ_BYTES = 64 * 1024 * 1024;

const NAME = /^audit(?:\.([1-9]\d{0,3}))?\.jsonl$/;

/** The audit files in `dir`, newest first (audit.jsonl, audit.1.jsonl, ...). */
async function listAuditFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    // No directory (or something else in its place): no log to read; the writer reports why.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new StoreError(`cannot read the audit log directory ${dir}: ${errorMessage(err)}`, 'audit_unreadable');
  }
  return names
    .map((n) => ({ n, m: NAME.exec(n) }))
    .filter((x) => x.m !== null)
    .sort((a, b) => Number(a.m![1] ?? 0) - Number(b.m![1] ?? 0))
    .map((x) => path.join(dir, x.n));
}

/** Where a follower continues: the current file (by identity) and how much of it was read. */
export interface AuditPosition {
  identity: string;
  offset: number;
}

export interface AuditReadResult {
  /** Oldest first. */
  events: AuditEvent[];
  /** More events matched than `limit`: the oldest of them were left out. */
  truncated: boolean;
  /** Lines that are not events (a torn line after a crash), among those read. */
  skippedLines: number;
  /** The end of what was read of audit.jsonl, or null if there was none. */
  position: AuditPosition | null;
}

interface OpenedFile {
  /** Closed by the caller, when the whole read is done. */
  handle: fsp.FileHandle;
  identity: string;
  text: string;
  /** The read ended at this byte (the file's size when opened, or the cap). */
  end: number;
}

async function readTail(file: string): Promise<OpenedFile | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new StoreError(`cannot read the audit log ${file}: ${errorMessage(err)}`, 'audit_unreadable');
  }
  let done = false;
  try {
    const st = await handle.stat();
    const start = Math.max(0, st.size - MAX_READ_BYTES);
    const buf = Buffer.alloc(st.size - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await handle.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    let text = buf.subarray(0, got).toString('utf8');
    // Started mid-file: the first line is a fragment.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    done = true;
    return { handle, identity: `${st.dev}:${st.ino}`, text, end: start + got };
  } finally {
    if (!done) await handle.close();
  }
}

/** `maxResultBytes`: stop once the events kept take this much as lines (GET /audit's bound). */
export async function readAudit(dir: string, query: AuditQuery, opts: { maxResultBytes?: number } = {}): Promise<AuditReadResult> {
  const budget = opts.maxResultBytes ?? Infinity;
  let used = 0;
  const files = await listAuditFiles(dir);
  // Open (read) newest first: see the top of this file.
  const seen = new Set<string>();
  const newestFirst: AuditEvent[] = [];
  let truncated = false;
  let skippedLines = 0;
  let position: AuditPosition | null = null;
  const worthParsing = prefilter(query);
  const open: fsp.FileHandle[] = [];
  try {
    for (const [i, file] of files.entries()) {
      const f = await readTail(file);
      if (f === null) continue;
      open.push(f.handle);
      if (seen.has(f.identity)) continue;
      seen.add(f.identity);
      if (i === 0 && file.endsWith(`${path.sep}audit.jsonl`)) position = { identity: f.identity, offset: f.end };
      const lines = f.text.split('\n');
      // The last element is what follows the last newline: a line still being written, or a torn one.
      let olderThanSince = false;
      for (let j = lines.length - 1; j >= 0; j--) {
        const line = lines[j]!;
        if (line.trim() === '' || !worthParsing(line)) continue;
        const e = parseLine(line);
        if (!e) {
          skippedLines++;
          continue;
        }
        if (query.since !== undefined && Date.parse(e.time) < query.since) olderThanSince = true;
        if (!matches(e, query)) continue;
        if (newestFirst.length >= query.limit || used + line.length > budget) {
          truncated = true;
          break;
        }
        used += line.length;
        newestFirst.push(e);
      }
      // Older files hold only older events (up to clock skew between processes, within this file).
      if (truncated || olderThanSince) break;
    }
  } finally {
    await Promise.all(open.map((h) => h.close()));
  }
  return { events: newestFirst.reverse(), truncated, skippedLines, position };
}

/**
 * A cheap test on the raw line that every line the filters could match passes (JSON.stringify
 * writes `"kind":"..."` and the token fields exactly so), to skip parsing the rest: a search for a
 * rare kind through 50 MiB then parses only what it finds. Lines it skips are not examined, so
 * `skippedLines` counts only torn lines among those examined.
 */
function prefilter(q: AuditQuery): (line: string) => boolean {
  const kinds = q.kinds.map((k) => `"kind":${JSON.stringify(k).slice(0, k.endsWith('.') ? -1 : undefined)}`);
  const token = q.token === undefined ? undefined : JSON.stringify(q.token);
  return (line) => (kinds.length === 0 || kinds.some((k) => line.includes(k))) && (token === undefined || line.includes(token));
}
