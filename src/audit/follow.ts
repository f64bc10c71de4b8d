// `tether audit --follow`: tails audit.jsonl across rotation. It reads the open file to its end;
// when audit.jsonl names another file (rotated) or none (mid-rotation, or removed), it reads the
// old one to its end once more (a writer may still have appended through an old descriptor), then
// moves to the new file from its start. Woken by a directory watch, with a poll as the fallback
// (a watch can miss events, and some filesystems have none).
import fs from 'node:fs';
import path from 'node:path';
import { parseLine } from './format.js';
import type { AuditEvent } from './kinds.js';
import { AUDIT_FILE } from './log.js';
import type { AuditPosition } from './reader.js';

export interface FollowOptions {
  dir: string;
  /** Continue from here (from readAudit); null: from the start of the current file. */
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

export function followAudit(opts: FollowOptions): Follower {
  const file = path.join(opts.dir, AUDIT_FILE);
  let fd: number | undefined;
  let identity = '';
  let offset = 0;
  let partial = '';
  let stopped = false;
  const decoder = new TextDecoder('utf-8');
  let from = opts.from;

  const emit = (line: string) => {
    if (line.trim() === '') return;
    const e = parseLine(line);
    if (e) opts.onEvent(e);
    else opts.onSkip?.();
  };

  const drain = () => {
    if (fd === undefined) return;
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, offset);
      if (n <= 0) break;
      offset += n;
      partial += decoder.decode(buf.subarray(0, n), { stream: true });
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) emit(l);
    }
  };

  const closeCurrent = () => {
    if (fd === undefined) return;
    // What is left without a newline in a file that is no longer written is a torn line.
    if (partial !== '') emit(partial);
    partial = '';
    fs.closeSync(fd);
    fd = undefined;
  };

  const identityOfPath = () => {
    try {
      const st = fs.statSync(file);
      return `${st.dev}:${st.ino}`;
    } catch {
      return '';
    }
  };

  const tick = () => {
    if (stopped) return;
    try {
      if (fd !== undefined && identityOfPath() !== identity) {
        drain();
        closeCurrent();
      }
      if (fd === undefined) {
        try {
          fd = fs.openSync(file, 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw err;
        }
        const st = fs.fstatSync(fd);
        identity = `${st.dev}:${st.ino}`;
        offset = from && from.identity === identity ? from.offset : 0;
        from = null;
      }
      drain();
    } catch {
      // A transient failure (the file went between stat and open): the next tick tries again.
    }
  };

  // Rotated between the read that gave `from` and now: finish that file (now audit.1.jsonl) first.
  const catchUp = () => {
    if (!from) return;
    try {
      const rfd = fs.openSync(path.join(opts.dir, 'audit.1.jsonl'), 'r');
      const st = fs.fstatSync(rfd);
      if (`${st.dev}:${st.ino}` !== from.identity || identityOfPath() === from.identity) {
        fs.closeSync(rfd);
        return;
      }
      fd = rfd;
      offset = from.offset;
      from = null;
      drain();
      closeCurrent();
    } catch {
      // no such file: nothing to catch up on
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
  catchUp();
  tick();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      watcher?.close();
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
}
