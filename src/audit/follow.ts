// `tether audit --follow`: tails audit.jsonl across rotation, missing no line and repeating none.
//
// It reads the open file to its end. When audit.jsonl names another file (rotated), it reads the
// old one to its end once more (a writer may still have appended through an old descriptor), then
// every file rotated since (however many rotations happened between two looks: they are found by
// identity, the newest opened first, as the reader does), oldest first, then the new audit.jsonl
// from its start. Woken by a directory watch, with a poll as the fallback (a watch can miss
// events, and some filesystems have none).
//
// Identity is dev:inode, and a filesystem hands a freed inode number to the next new file at once
// (ext4 does): so the file we finished stays open until the files after it are found, or a new
// audit.jsonl that took its number would look like it and the files between would be skipped.
import fs from 'node:fs';
import path from 'node:path';
import { TextDecoder } from 'node:util';
import { parseLine } from './format.js';
import type { AuditEvent } from './kinds.js';
import { AUDIT_FILE, auditFileName } from './log.js';
import type { AuditPosition } from './reader.js';

export interface FollowOptions {
  dir: string;
  /** Continue from here (from readAudit); null: from the oldest file there is. */
  from: AuditPosition | null;
  onEvent: (e: AuditEvent) => void;
  /** A line that is not an event (a torn line). */
  onSkip?: () => void;
  pollMs?: number;
}

export interface Follower {
  stop(): void;
}

const CHUNK = 64 * 1024;
const ROTATED = /^audit\.([1-9]\d{0,3})\.jsonl$/;

/** One open file being read. */
interface Reading {
  fd: number;
  identity: string;
  offset: number;
  partial: string;
  decoder: TextDecoder;
}

export function followAudit(opts: FollowOptions): Follower {
  const file = path.join(opts.dir, AUDIT_FILE);
  let current: Reading | undefined;
  /**
   * Where reading stopped: the last file read to its end (`fd` held open, see above), or where the
   * backlog read stopped. What came before it is done; what it holds past `offset` is new.
   */
  let anchor: (Pick<Reading, 'identity' | 'offset'> & { fd?: number }) | null = opts.from ? { identity: opts.from.identity, offset: opts.from.offset } : null;
  let stopped = false;

  const dropAnchor = () => {
    if (anchor?.fd !== undefined) fs.closeSync(anchor.fd);
    anchor = null;
  };

  const emit = (line: string) => {
    if (line.trim() === '') return;
    const e = parseLine(line);
    if (e) opts.onEvent(e);
    else opts.onSkip?.();
  };

  const open = (p: string): Reading | undefined => {
    let fd: number;
    try {
      fd = fs.openSync(p, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const st = fs.fstatSync(fd);
    return { fd, identity: `${st.dev}:${st.ino}`, offset: 0, partial: '', decoder: new TextDecoder('utf-8') };
  };

  const drain = (r: Reading) => {
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const n = fs.readSync(r.fd, buf, 0, CHUNK, r.offset);
      if (n <= 0) break;
      r.offset += n;
      r.partial += r.decoder.decode(buf.subarray(0, n), { stream: true });
      const lines = r.partial.split('\n');
      r.partial = lines.pop()!;
      for (const l of lines) emit(l);
    }
  };

  /** Reads a file that is no longer written to its end; what is left without a newline is torn. */
  const readToEnd = (r: Reading) => {
    drain(r);
    if (r.partial !== '') emit(r.partial);
    r.partial = '';
  };

  /** Reads a finished file to its end as the new anchor (so a failure part-way resumes after it). */
  const settle = (r: Reading) => {
    dropAnchor();
    anchor = r;
    readToEnd(r);
  };

  const identityOfPath = () => {
    try {
      const st = fs.statSync(file);
      return `${st.dev}:${st.ino}`;
    } catch {
      return '';
    }
  };

  /**
   * The files rotated after the anchor and before `next` (the audit.jsonl about to be read), oldest
   * first, the anchor's rest included (each opened, newest first).
   */
  const rotatedSinceAnchor = (next: Reading): Reading[] => {
    const top = Math.max(0, ...fs.readdirSync(opts.dir).map((n) => Number(ROTATED.exec(n)?.[1] ?? 0)));
    let found: Reading[] = [];
    const seen = new Set<string>();
    // Upwards, as rotation moves files: one moved while we look is seen twice (skipped), never missed.
    for (let g = 1; g <= top + 1; g++) {
      const r = open(path.join(opts.dir, auditFileName(g)));
      if (!r) continue;
      if (seen.has(r.identity)) {
        fs.closeSync(r.fd);
        continue;
      }
      seen.add(r.identity);
      if (r.identity === next.identity) {
        // `next` was rotated since we opened it: what we found so far is newer than it, and is
        // read after it (when it is finished), not before.
        for (const f of [...found, r]) fs.closeSync(f.fd);
        found = [];
        continue;
      }
      if (anchor && r.identity === anchor.identity) {
        // What was appended after we stopped (through a writer's old descriptor) is new.
        r.offset = anchor.offset;
        found.push(r);
        break;
      }
      found.push(r);
    }
    return found.reverse();
  };

  const tick = () => {
    if (stopped) return;
    try {
      if (current && identityOfPath() !== current.identity) {
        const old = current;
        current = undefined;
        settle(old);
      }
      if (!current) {
        const next = open(file);
        if (!next) return; // mid-rotation (or none yet): the next tick
        try {
          if (anchor && next.identity === anchor.identity) {
            next.offset = anchor.offset;
          } else {
            const rotated = rotatedSinceAnchor(next);
            try {
              for (let r = rotated.shift(); r; r = rotated.shift()) settle(r);
            } finally {
              for (const r of rotated) fs.closeSync(r.fd);
            }
          }
        } catch (err) {
          fs.closeSync(next.fd);
          throw err;
        }
        dropAnchor();
        current = next;
      }
      drain(current);
    } catch {
      // A transient failure (a file went between list and open): the next tick tries again.
    }
  };

  let watcher: fs.FSWatcher | undefined;
  try {
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    watcher = fs.watch(opts.dir, () => tick());
    watcher.on('error', () => {});
  } catch {
    // no watch: the poll alone
  }
  const timer = setInterval(tick, opts.pollMs ?? 500);
  tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      if (current) fs.closeSync(current.fd);
      current = undefined;
      dropAnchor();
    },
  };
}
