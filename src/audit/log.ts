// The audit log's writer: `$XDG_STATE_HOME/tether/audit.jsonl`, append-only JSON Lines, 0600 in a
// 0700 directory, rotated by size (audit.jsonl, audit.1.jsonl ... audit.<maxFiles-1>.jsonl).
//
// Each line is one write(2) on an O_APPEND descriptor, made synchronously before the caller goes
// on (so before the action's response is sent). Writers in several processes (the server, the CLI)
// therefore never interleave within a line: the kernel appends each write whole. A crash can tear
// only the last line; the next writer sees a file not ending in "\n" and starts on a fresh line,
// and readers skip the torn one.
//
// Rotation renames the files up by one under a kernel lock shared by every process (rotate.ts),
// after checking that the file is still the full one (another process may have rotated it first).
// A writer whose descriptor no longer names audit.jsonl (rotated, or the directory deleted)
// reopens before writing; a line appended meanwhile through the old descriptor lands in
// audit.1.jsonl, never nowhere.
//
// The log's own failure (disk full, read-only, a directory that cannot be made) never reaches the
// caller: `record` never throws. It is reported loudly instead: an `audit.write_failed` error line
// on the server's log at once and then at most once per `reportEveryMs` while it lasts, `status()`
// (shown by GET /audit, the web UI's Audit page and `serve` at start-up), and an `audit.lost` line
// in the audit log itself, with the count, once writing works again.
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { stateDir } from '../paths.js';
import { formatLine } from './format.js';
import { SERVER_ADDRESS, type AuditActor, type AuditDetails, type AuditKind } from './kinds.js';
import { withRotationLock } from './rotate.js';

export const AUDIT_FILE = 'audit.jsonl';
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_FILES = 5;
const REPORT_EVERY_MS = 60_000;

/** The file names, newest first: audit.jsonl, audit.1.jsonl, ... */
export function auditFileName(generation: number): string {
  return generation === 0 ? AUDIT_FILE : `audit.${generation}.jsonl`;
}

export function defaultAuditDir(): string {
  return stateDir();
}

/** The system calls the writer makes that tests replace to make them fail. */
export interface AuditIo {
  write(fd: number, data: Buffer): number;
}

export interface AuditLogOptions {
  /** Default `$XDG_STATE_HOME/tether`. */
  dir?: string;
  /** A file is rotated before a line would take it past this (default 10 MiB). */
  maxBytes?: number;
  /** Files kept, the current one included (default 5, at least 2). */
  maxFiles?: number;
  /** Where the log's own failures are reported (default: stderr, plain text). */
  log?: Logger;
  /** How often a lasting failure is reported again (default once a minute). */
  reportEveryMs?: number;
  now?: () => number;
  io?: Partial<AuditIo>;
}

export interface AuditStatus {
  ok: boolean;
  file: string;
  /** The last failure, while failing. */
  error: string | null;
  failingSince: string | null;
  /** Lines not written since failing started. */
  lostLines: number;
}

/** What routes and the CLI call; AuditLog is the one implementation (tests may wrap it). */
export interface AuditSink {
  /** The directory of the log's files (readers read it: reader.ts). */
  readonly dir: string;
  record<K extends AuditKind>(kind: K, actor: AuditActor, details: AuditDetails[K]): void;
  status(): AuditStatus;
}

const stderrLogger: Logger = {
  log(_level, event, fields = {}) {
    const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
    process.stderr.write(`tether: warning: ${event}: ${text(fields.error)} (${text(fields.file)})\n`);
  },
};

export class AuditLog implements AuditSink {
  readonly dir: string;
  readonly file: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  private readonly log: Logger;
  private readonly reportEveryMs: number;
  private readonly now: () => number;
  private readonly io: AuditIo;
  private fd: number | undefined;
  /** dev:ino of the file `fd` is open on. */
  private identity = '';
  /** The file's size right after our last whole line (-1: unknown). */
  private knownEnd = -1;
  private closed = false;
  private failure: { since: number; error: string; lost: number; reportedAt: number } | undefined;

  constructor(opts: AuditLogOptions = {}) {
    this.dir = opts.dir ?? defaultAuditDir();
    this.file = path.join(this.dir, AUDIT_FILE);
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxFiles = opts.maxFiles ?? DEFAULT_MAX_FILES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 256) throw new RangeError(`maxBytes must be an integer >= 256, got ${this.maxBytes}`);
    if (!Number.isSafeInteger(this.maxFiles) || this.maxFiles < 2) throw new RangeError(`maxFiles must be an integer >= 2, got ${this.maxFiles}`);
    this.log = opts.log ?? stderrLogger;
    this.reportEveryMs = opts.reportEveryMs ?? REPORT_EVERY_MS;
    this.now = opts.now ?? Date.now;
    this.io = { write: (fd, data) => fs.writeSync(fd, data), ...opts.io };
  }

  /** Appends one event. Never throws: a failure is reported (see the top of this file) and counted. */
  record<K extends AuditKind>(kind: K, actor: AuditActor, details: AuditDetails[K]): void {
    const at = this.now();
    let line: string;
    try {
      line = formatLine(new Date(at), kind, actor, details);
    } catch (err) {
      return this.failed(`cannot format a ${kind} event: ${errorMessage(err)}`, at);
    }
    try {
      if (this.failure) {
        this.append(this.lostLine(at));
        this.recovered();
      }
      this.append(line);
    } catch (err) {
      this.failed(errorMessage(err), at);
    } finally {
      // After close(), every record opens, writes and closes: a late event (a terminal's exit
      // during shutdown) is still written, and nothing stays open.
      if (this.closed) this.closeFd();
    }
  }

  status(): AuditStatus {
    const f = this.failure;
    return { ok: !f, file: this.file, error: f?.error ?? null, failingSince: f ? new Date(f.since).toISOString() : null, lostLines: f?.lost ?? 0 };
  }

  close(): void {
    this.closed = true;
    this.closeFd();
  }

  // --- writing ---

  private append(line: string): void {
    let fd = this.open();
    let size = fs.fstatSync(fd).size;
    const bytes = Buffer.byteLength(line) + 1;
    if (size > 0 && size + bytes > this.maxBytes) {
      this.rotate(bytes);
      fd = this.open();
      size = fs.fstatSync(fd).size;
    }
    // A torn last line (a writer died mid-write): start on a fresh line, so only that one is lost.
    // Where the file still ends where our last whole line did, that byte is known to be "\n".
    const fresh = size === 0 || size === this.knownEnd || this.endsWithNewline(fd, size);
    const data = Buffer.from(fresh ? `${line}\n` : `\n${line}\n`);
    this.knownEnd = -1;
    const written = this.io.write(fd, data);
    if (written !== data.length) throw new Error(`short write to ${this.file}: ${written} of ${data.length} bytes (disk full?)`);
    // Our line is the last one only if no other process appended meanwhile: then the size says so.
    this.knownEnd = size + data.length;
  }

  /** The descriptor for audit.jsonl as it is now: reopened if the file was rotated or removed. */
  private open(): number {
    if (this.fd !== undefined) {
      if (this.identityOfPath() === this.identity) return this.fd;
      this.closeFd();
    }
    makePrivateDir(this.dir);
    const fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
    try {
      const st = fs.fstatSync(fd);
      // Not a regular file (e.g. a device put there): written to, but never rotated or fixed up.
      if (st.isFile() && (st.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
      this.identity = `${st.dev}:${st.ino}`;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.fd = fd;
    return fd;
  }

  private identityOfPath(): string {
    try {
      const st = fs.statSync(this.file);
      return `${st.dev}:${st.ino}`;
    } catch {
      return '';
    }
  }

  private endsWithNewline(fd: number, size: number): boolean {
    const b = Buffer.alloc(1);
    // O_APPEND moves every write to the end, but pread still reads where it is told.
    return fs.readSync(fd, b, 0, 1, size - 1) === 1 && b[0] === 0x0a;
  }

  /**
   * Renames audit.<n>.jsonl up by one (the oldest goes), under the cross-process lock. If the lock
   * or a rename fails, the line is still written, to whatever audit.jsonl is then (the file grows
   * past maxBytes until a later rotation succeeds): losing the line would be worse.
   */
  private rotate(incoming: number): void {
    try {
      withRotationLock(`${this.file}.lock`, () => {
        // Someone else may have rotated between our check and the lock: rotate only a full file.
        let st: fs.Stats;
        try {
          st = fs.statSync(this.file);
        } catch {
          return;
        }
        if (!st.isFile() || st.size === 0 || st.size + incoming <= this.maxBytes) return;
        for (let g = this.maxFiles - 1; g >= 1; g--) {
          try {
            fs.renameSync(path.join(this.dir, auditFileName(g - 1)), path.join(this.dir, auditFileName(g)));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
      });
    } catch (err) {
      this.reportRotation(errorMessage(err));
    }
    this.closeFd();
  }

  private rotationReportedAt = -Infinity;

  private reportRotation(error: string): void {
    const at = this.now();
    if (at - this.rotationReportedAt < this.reportEveryMs) return;
    this.rotationReportedAt = at;
    this.log.log('error', 'audit.rotate_failed', { file: this.file, error, note: 'lines are still written; the file grows until rotation works' });
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = undefined;
    this.identity = '';
    this.knownEnd = -1;
  }

  // --- failure ---

  private failed(error: string, at: number): void {
    const first = !this.failure;
    this.failure ??= { since: at, error, lost: 0, reportedAt: -Infinity };
    const f = this.failure;
    f.error = error;
    f.lost++;
    if (first || at - f.reportedAt >= this.reportEveryMs) {
      f.reportedAt = at;
      this.log.log('error', 'audit.write_failed', {
        file: this.file,
        error,
        lostLines: f.lost,
        failingSince: new Date(f.since).toISOString(),
        note: 'the audit log cannot be written; requests are still served (reported at most once a minute)',
      });
    }
  }

  private lostLine(at: number): string {
    const f = this.failure!;
    return formatLine(new Date(at), 'audit.lost', { tokenId: null, tokenName: null, address: SERVER_ADDRESS }, {
      lines: f.lost,
      since: new Date(f.since).toISOString(),
      error: f.error,
    } satisfies AuditDetails['audit.lost']);
  }

  private recovered(): void {
    const f = this.failure!;
    this.failure = undefined;
    this.log.log('warn', 'audit.recovered', { file: this.file, lostLines: f.lost, failingSince: new Date(f.since).toISOString() });
  }
}

/** mkdir -p with 0700, and a looser existing directory made 0700 (as ensurePrivateDir, synchronously). */
function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.mode & 0o077) fs.chmodSync(dir, 0o700);
}

/**
 * One event from a short-lived process (the CLI): opened, written, closed. A failure is a warning
 * on stderr, never a failed command (the act itself is done).
 */
export function recordOnce<K extends AuditKind>(kind: K, actor: AuditActor, details: AuditDetails[K], opts: AuditLogOptions = {}): void {
  const log = new AuditLog(opts);
  log.close();
  log.record(kind, actor, details);
}
