import path from 'node:path';
import { ConflictError, NotFoundError, UsageError } from '../errors.js';
import { dataDir } from '../paths.js';
import { openDatabase, type Db } from './db.js';
import { newId } from './ids.js';
import {
  FINAL_STATUSES,
  MESSAGE_ROLES,
  MESSAGE_STATUSES,
  type FinalStatus,
  type Message,
  type MessageRole,
  type MessageStatus,
  type Part,
  type PartType,
  type Session,
  type SessionPatch,
} from './types.js';

// Sessions, messages and parts in SQLite. Every write is one transaction; reads return plain
// records (see types.ts). Input is checked here too, since HTTP handlers pass client data through.

export const INTERRUPTED_ERROR = 'interrupted by server restart';
export const DEFAULT_TITLE = 'New session';
const MAX_TITLE_LENGTH = 200;
const PART_TYPE_RE = /^[a-z][a-z0-9_]{0,31}$/;

export function defaultDbFile(): string {
  return path.join(dataDir(), 'tether.db');
}

interface SessionRow {
  id: string;
  title: string;
  directory: string;
  /** `dev:ino` of the directory when the session was created (null: not pinned yet). */
  directory_id: string | null;
  created_at: string;
  updated_at: string;
}
interface MessageRow {
  id: string;
  session_id: string;
  seq: number;
  role: MessageRole;
  token_id: string | null;
  status: MessageStatus;
  created_at: string;
  completed_at: string | null;
  error: string | null;
}
interface PartRow {
  id: string;
  session_id: string;
  message_id: string;
  seq: number;
  type: string;
  data: string;
}

export interface NewMessage {
  role: MessageRole;
  tokenId: string | null;
  status?: MessageStatus;
  parts?: NewPart[];
}

export interface NewPart {
  type: PartType;
  data: unknown;
}

const PART_COLUMNS = 'p.id, m.session_id, p.message_id, p.seq, p.type, p.data';

export class SessionStore {
  readonly file: string;
  /**
   * Messages found unfinished ('pending' or 'running') when the file was opened, and marked
   * 'error' with INTERRUPTED_ERROR: the process that was running them is gone and nothing resumes
   * them, so leaving them 'running' would show a spinner forever. Only the server should open the
   * store, or it would interrupt the server's live runs.
   */
  readonly recoveredMessages: number;
  private readonly db: Db;
  private readonly q: ReturnType<typeof prepare>;

  constructor(file: string = defaultDbFile()) {
    this.file = file;
    this.db = openDatabase(file);
    this.q = prepare(this.db);
    this.recoveredMessages = this.q.interruptUnfinished.run(INTERRUPTED_ERROR, now()).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- sessions ---

  /** `directoryId`: the directory's `dev:ino`, which it must keep (see SessionService). */
  createSession(input: { title?: string; directory: string; directoryId?: string }): Session {
    const title = input.title === undefined ? DEFAULT_TITLE : checkTitle(input.title);
    if (typeof input.directory !== 'string' || !path.isAbsolute(input.directory)) {
      throw new UsageError('directory must be an absolute path');
    }
    const t = now();
    const row: SessionRow = { id: newId('ses'), title, directory: input.directory, directory_id: input.directoryId ?? null, created_at: t, updated_at: t };
    this.q.insertSession.run(row);
    return toSession(row);
  }

  /** Most recently active first. */
  listSessions(): Session[] {
    return this.q.listSessions.all().map(toSession);
  }

  getSession(id: string): Session {
    const row = this.q.getSession.get(id);
    if (!row) throw sessionNotFound(id);
    return toSession(row);
  }

  /** The pinned `dev:ino` of the session's directory, or null if it has none yet. */
  directoryId(id: string): string | null {
    const row = this.q.getSession.get(id);
    if (!row) throw sessionNotFound(id);
    return row.directory_id;
  }

  /** Pins a session that has no pin yet (made before pins existed); an existing pin is never changed. */
  pinDirectory(id: string, directoryId: string): void {
    this.q.pinDirectory.run(directoryId, id);
  }

  /** Sessions whose directory is not pinned yet. */
  unpinnedSessions(): Session[] {
    return this.q.unpinnedSessions.all().map(toSession);
  }

  updateSession(id: string, patch: SessionPatch): Session {
    return this.db.transaction(() => {
      const current = this.getSession(id);
      if (patch.title === undefined) return current;
      this.q.updateTitle.run(checkTitle(patch.title), now(), id);
      return this.getSession(id);
    })();
  }

  /** Sets the title if the session still has the default one and no message yet; whether it did. */
  titleIfUntitled(id: string, title: string): boolean {
    return this.q.titleIfUntitled.run(checkTitle(title), now(), id, DEFAULT_TITLE, id).changes > 0;
  }

  /** Deletes the session with its messages and parts (ON DELETE CASCADE). */
  deleteSession(id: string): void {
    if (this.q.deleteSession.run(id).changes === 0) throw sessionNotFound(id);
  }

  // --- messages ---

  /**
   * Status defaults to 'running'. `parts` are stored with the message, in the same transaction:
   * the way to record a message that is born finished (e.g. the user's prompt, 'completed'),
   * since parts cannot be appended to a finished message.
   */
  createMessage(sessionId: string, input: NewMessage): Message {
    const role = checkOneOf('role', input.role, MESSAGE_ROLES);
    const status = checkOneOf('status', input.status ?? 'running', MESSAGE_STATUSES);
    const tokenId = input.tokenId ?? null;
    if (tokenId !== null && typeof tokenId !== 'string') throw new UsageError('tokenId must be a string or null');
    const parts = (input.parts ?? []).map((p) => ({ type: checkPartType(p.type), data: toJson(p.data) }));
    return this.db.transaction(() => {
      this.getSession(sessionId);
      const t = now();
      const row: MessageRow = {
        id: newId('msg'),
        session_id: sessionId,
        seq: this.q.nextMessageSeq.get(sessionId)!.next,
        role,
        token_id: tokenId,
        status,
        created_at: t,
        // A message may be born finished (e.g. the user's prompt, stored as 'completed').
        completed_at: isFinal(status) ? t : null,
        error: null,
      };
      this.q.insertMessage.run(row);
      const partRows = parts.map((p, seq): PartRow => {
        const part = { id: newId('prt'), session_id: sessionId, message_id: row.id, seq, ...p };
        this.q.insertPart.run(part);
        return part;
      });
      this.q.touchSession.run(t, sessionId);
      return toMessage(row, partRows.map(toPart));
    })();
  }

  getMessage(id: string): Message {
    const row = this.q.getMessage.get(id);
    if (!row) throw messageNotFound(id);
    return toMessage(row, this.q.partsOfMessage.all(id).map(toPart));
  }

  /** The session's messages, oldest first, each with its parts in order. */
  listMessages(sessionId: string): Message[] {
    return this.db.transaction(() => {
      this.getSession(sessionId);
      const parts = new Map<string, Part[]>();
      for (const row of this.q.partsOfSession.all(sessionId)) {
        const list = parts.get(row.message_id) ?? [];
        list.push(toPart(row));
        parts.set(row.message_id, list);
      }
      return this.q.messagesOfSession.all(sessionId).map((m) => toMessage(m, parts.get(m.id) ?? []));
    })();
  }

  /** Ends a message. A message ends once: finishing it again is a ConflictError. */
  finishMessage(id: string, input: { status: FinalStatus; error?: string | null }): Message {
    const status = checkOneOf('status', input.status, FINAL_STATUSES);
    const error = input.error ?? null;
    if (error !== null && typeof error !== 'string') throw new UsageError('error must be a string or null');
    return this.db.transaction(() => {
      const current = this.unfinishedMessage(id);
      const t = now();
      this.q.finishMessage.run(status, t, error, id);
      this.q.touchSession.run(t, current.session_id);
      return this.getMessage(id);
    })();
  }

  // --- parts ---

  appendPart(messageId: string, input: NewPart): Part {
    const type = checkPartType(input.type);
    const data = toJson(input.data);
    return this.db.transaction(() => {
      const message = this.unfinishedMessage(messageId);
      const row: PartRow = {
        id: newId('prt'),
        session_id: message.session_id,
        message_id: messageId,
        seq: this.q.nextPartSeq.get(messageId)!.next,
        type,
        data,
      };
      this.q.insertPart.run(row);
      return toPart(row);
    })();
  }

  /** Replaces a part's data (e.g. text growing while a model streams). Its message must be unfinished. */
  updatePart(partId: string, data: unknown): Part {
    const json = toJson(data);
    return this.db.transaction(() => {
      const found = this.q.getPart.get(partId);
      if (!found) throw new NotFoundError(`part "${partId}" not found`, 'part_not_found');
      this.unfinishedMessage(found.message_id);
      this.q.updatePartData.run(json, partId);
      return toPart({ ...found, data: json });
    })();
  }

  private unfinishedMessage(id: string): MessageRow {
    const row = this.q.getMessage.get(id);
    if (!row) throw messageNotFound(id);
    if (isFinal(row.status)) {
      throw new ConflictError(`message "${id}" has already finished (${row.status})`, 'message_finished');
    }
    return row;
  }
}

function prepare(db: Db) {
  return {
    insertSession: db.prepare<SessionRow>(
      'INSERT INTO sessions (id, title, directory, directory_id, created_at, updated_at) VALUES (@id, @title, @directory, @directory_id, @created_at, @updated_at)',
    ),
    pinDirectory: db.prepare<[string, string]>('UPDATE sessions SET directory_id = ? WHERE id = ? AND directory_id IS NULL'),
    unpinnedSessions: db.prepare<[], SessionRow>('SELECT * FROM sessions WHERE directory_id IS NULL'),
    listSessions: db.prepare<[], SessionRow>('SELECT * FROM sessions ORDER BY updated_at DESC, id'),
    getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    updateTitle: db.prepare<[string, string, string]>('UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?'),
    titleIfUntitled: db.prepare<[string, string, string, string, string]>(
      'UPDATE sessions SET title = ?, updated_at = ? WHERE id = ? AND title = ? AND NOT EXISTS (SELECT 1 FROM messages WHERE session_id = ?)',
    ),
    touchSession: db.prepare<[string, string]>('UPDATE sessions SET updated_at = ? WHERE id = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),

    nextMessageSeq: db.prepare<[string], { next: number }>('SELECT coalesce(max(seq) + 1, 0) AS next FROM messages WHERE session_id = ?'),
    insertMessage: db.prepare<MessageRow>(
      `INSERT INTO messages (id, session_id, seq, role, token_id, status, created_at, completed_at, error)
       VALUES (@id, @session_id, @seq, @role, @token_id, @status, @created_at, @completed_at, @error)`,
    ),
    getMessage: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
    messagesOfSession: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE session_id = ? ORDER BY seq'),
    finishMessage: db.prepare<[string, string, string | null, string]>('UPDATE messages SET status = ?, completed_at = ?, error = ? WHERE id = ?'),
    interruptUnfinished: db.prepare<[string, string]>(
      `UPDATE messages SET status = 'error', error = ?, completed_at = ? WHERE status IN ('pending', 'running')`,
    ),

    nextPartSeq: db.prepare<[string], { next: number }>('SELECT coalesce(max(seq) + 1, 0) AS next FROM parts WHERE message_id = ?'),
    insertPart: db.prepare<Omit<PartRow, 'session_id'>>('INSERT INTO parts (id, message_id, seq, type, data) VALUES (@id, @message_id, @seq, @type, @data)'),
    getPart: db.prepare<[string], PartRow>(`SELECT ${PART_COLUMNS} FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.id = ?`),
    updatePartData: db.prepare<[string, string]>('UPDATE parts SET data = ? WHERE id = ?'),
    partsOfMessage: db.prepare<[string], PartRow>(
      `SELECT ${PART_COLUMNS} FROM parts p JOIN messages m ON m.id = p.message_id WHERE p.message_id = ? ORDER BY p.seq`,
    ),
    partsOfSession: db.prepare<[string], PartRow>(
      `SELECT ${PART_COLUMNS} FROM parts p JOIN messages m ON m.id = p.message_id
       WHERE m.session_id = ? ORDER BY m.seq, p.seq`,
    ),
  };
}

let lastNow = 0;
/** Strictly increasing timestamps, so "most recently active first" has no ties within a process. */
function now(): string {
  lastNow = Math.max(Date.now(), lastNow + 1);
  return new Date(lastNow).toISOString();
}

function isFinal(status: MessageStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** The one "no such session" error: also what a caller gets for a session outside its scopes. */
export function sessionNotFound(id: string): NotFoundError {
  return new NotFoundError(`session "${id}" not found`, 'session_not_found');
}

function messageNotFound(id: string): NotFoundError {
  return new NotFoundError(`message "${id}" not found`, 'message_not_found');
}

function checkTitle(title: unknown): string {
  if (typeof title !== 'string') throw new UsageError('title must be a string');
  const t = title.trim();
  if (t.length === 0 || t.length > MAX_TITLE_LENGTH) {
    throw new UsageError(`title must be 1 to ${MAX_TITLE_LENGTH} characters (got ${t.length})`);
  }
  // Titles are shown in terminals: no escape sequences or line breaks.
  if (/\p{Cc}/u.test(t)) throw new UsageError('title must not contain control characters');
  return t;
}

function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

function checkPartType(type: unknown): string {
  if (typeof type !== 'string' || !PART_TYPE_RE.test(type)) {
    throw new UsageError(`part type must be 1 to 32 lowercase letters, digits or underscores, starting with a letter (got ${JSON.stringify(type)})`);
  }
  return type;
}

function toJson(data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (err) {
    // cycles, BigInt
    throw new UsageError(`part data must be JSON-serializable: ${(err as Error).message}`);
  }
  if (json === undefined) throw new UsageError('part data must be JSON-serializable (got undefined or a function)');
  return json;
}

function toSession(r: SessionRow): Session {
  return { id: r.id, title: r.title, directory: r.directory, createdAt: r.created_at, updatedAt: r.updated_at };
}

function toMessage(r: MessageRow, parts: Part[]): Message {
  return {
    id: r.id,
    sessionId: r.session_id,
    seq: r.seq,
    role: r.role,
    tokenId: r.token_id,
    status: r.status,
    createdAt: r.created_at,
    completedAt: r.completed_at,
    error: r.error,
    parts,
  };
}

function toPart(r: PartRow): Part {
  return { id: r.id, sessionId: r.session_id, messageId: r.message_id, seq: r.seq, type: r.type, data: JSON.parse(r.data) };
}
