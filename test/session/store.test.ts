import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, StoreError, UsageError } from '../../src/errors.js';
import { MIGRATIONS, openDatabase, schemaVersion } from '../../src/session/db.js';
import { INTERRUPTED_ERROR, SessionStore, defaultDbFile } from '../../src/session/store.js';
import { mode, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let file: string;
let store: SessionStore;

beforeEach(() => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'data', 'tether.db');
  store = new SessionStore(file);
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

describe('sessions', () => {
  it('creates, lists, gets, updates and deletes', () => {
    const a = store.createSession({ directory: tmp.dir });
    expect(a.id).toMatch(/^ses_[A-Za-z0-9_-]{22}$/);
    expect(a.title).toBe('New session');
    expect(a.directory).toBe(tmp.dir);
    expect(Date.parse(a.createdAt)).not.toBeNaN();

    const b = store.createSession({ title: '  second  ', directory: tmp.dir });
    expect(b.title).toBe('second');
    expect(store.getSession(a.id)).toEqual(a);
    expect(
      store
        .listSessions()
        .map((s) => s.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());

    const renamed = store.updateSession(a.id, { title: 'renamed' });
    expect(renamed.title).toBe('renamed');
    expect(renamed.updatedAt >= a.updatedAt).toBe(true);
    expect(store.listSessions()[0].id).toBe(a.id); // most recently active first

    store.deleteSession(a.id);
    expect(() => store.getSession(a.id)).toThrow(NotFoundError);
    expect(store.listSessions().map((s) => s.id)).toEqual([b.id]);
  });

  it('names the id in not-found errors', () => {
    expect(() => store.getSession('ses_nope')).toThrow(/session "ses_nope" not found/);
    expect(() => store.updateSession('ses_nope', { title: 'x' })).toThrow(NotFoundError);
    expect(() => store.deleteSession('ses_nope')).toThrow(NotFoundError);
    expect(() => store.getMessage('msg_nope')).toThrow(/message "msg_nope" not found/);
  });

  it('rejects bad titles and relative directories', () => {
    expect(() => store.createSession({ title: '   ', directory: tmp.dir })).toThrow(UsageError);
    expect(() => store.createSession({ title: 'x'.repeat(201), directory: tmp.dir })).toThrow(/1 to 200/);
    expect(() => store.createSession({ title: 'a\x1b[2Jb', directory: tmp.dir })).toThrow(/control/);
    expect(() => store.createSession({ directory: 'relative' })).toThrow(/absolute/);
  });
});

describe('messages and parts', () => {
  it('records messages with ordered parts and finishes them', () => {
    const s = store.createSession({ directory: tmp.dir });
    const user = store.createMessage(s.id, {
      role: 'user',
      tokenId: 'tok_1',
      status: 'completed',
      parts: [{ type: 'text', data: { text: 'hello' } }],
    });
    expect(user.id).toMatch(/^msg_/);
    expect(user.completedAt).not.toBeNull();
    expect(user.parts).toMatchObject([{ seq: 0, type: 'text', data: { text: 'hello' }, messageId: user.id }]);

    const reply = store.createMessage(s.id, { role: 'assistant', tokenId: null, status: 'running' });
    const p0 = store.appendPart(reply.id, { type: 'text', data: { text: 'Hel' } });
    expect(p0).toMatchObject({ sessionId: s.id, messageId: reply.id, seq: 0, type: 'text' });
    expect(p0.id).toMatch(/^prt_/);
    store.updatePart(p0.id, { text: 'Hello' });
    store.appendPart(reply.id, { type: 'tool_call', data: { name: 'read', args: { path: 'a' } } });
    const done = store.finishMessage(reply.id, { status: 'completed' });
    expect(done.status).toBe('completed');
    expect(done.completedAt).not.toBeNull();

    const list = store.listMessages(s.id);
    expect(list.map((m) => [m.role, m.seq, m.tokenId])).toEqual([
      ['user', 0, 'tok_1'],
      ['assistant', 1, null],
    ]);
    expect(list[1].parts.map((p) => [p.seq, p.type, p.data])).toEqual([
      [0, 'text', { text: 'Hello' }],
      [1, 'tool_call', { name: 'read', args: { path: 'a' } }],
    ]);
    expect(store.getMessage(reply.id)).toEqual(list[1]);
    expect(list[0].parts).toEqual(user.parts);
  });

  it('refuses writes to finished messages and to missing parents', () => {
    const s = store.createSession({ directory: tmp.dir });
    const m = store.createMessage(s.id, { role: 'assistant', tokenId: null });
    const p = store.appendPart(m.id, { type: 'text', data: 'x' });
    store.finishMessage(m.id, { status: 'error', error: 'boom' });
    expect(store.getMessage(m.id).error).toBe('boom');
    expect(() => store.appendPart(m.id, { type: 'text', data: 'y' })).toThrow(ConflictError);
    expect(() => store.updatePart(p.id, 'y')).toThrow(ConflictError);
    expect(() => store.finishMessage(m.id, { status: 'completed' })).toThrow(/already finished/);
    expect(() => store.createMessage('ses_nope', { role: 'user', tokenId: null })).toThrow(NotFoundError);
    expect(() => store.appendPart('msg_nope', { type: 'text', data: 1 })).toThrow(NotFoundError);
    expect(() => store.updatePart('prt_nope', 1)).toThrow(NotFoundError);
  });

  it('validates roles, statuses, part types and data', () => {
    const s = store.createSession({ directory: tmp.dir });
    expect(() => store.createMessage(s.id, { role: 'system' as never, tokenId: null })).toThrow(/role must be one of/);
    expect(() => store.createMessage(s.id, { role: 'user', tokenId: null, status: 'done' as never })).toThrow(UsageError);
    const m = store.createMessage(s.id, { role: 'assistant', tokenId: null });
    expect(() => store.finishMessage(m.id, { status: 'running' as never })).toThrow(/status must be one of completed, error, aborted/);
    expect(() => store.appendPart(m.id, { type: 'Bad Type', data: 1 })).toThrow(/part type/);
    expect(() => store.appendPart(m.id, { type: 'text', data: undefined })).toThrow(/JSON/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => store.appendPart(m.id, { type: 'text', data: cyclic })).toThrow(UsageError);
    // A new type needs no migration.
    expect(store.appendPart(m.id, { type: 'reasoning', data: null }).data).toBeNull();
  });

  it('deleting a session cascades to its messages and parts', () => {
    const s = store.createSession({ directory: tmp.dir });
    const m = store.createMessage(s.id, { role: 'user', tokenId: null });
    store.appendPart(m.id, { type: 'text', data: 'x' });
    store.deleteSession(s.id);
    store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT count(*) AS n FROM parts').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe('persistence', () => {
  it('keeps sessions, messages and parts across close and reopen', () => {
    const s = store.createSession({ title: 'kept', directory: tmp.dir });
    const m = store.createMessage(s.id, { role: 'assistant', tokenId: 'tok_a', status: 'running' });
    store.appendPart(m.id, { type: 'text', data: { text: 'persist me', n: [1, 2] } });
    store.finishMessage(m.id, { status: 'completed' });
    const before = store.listMessages(s.id);
    const session = store.getSession(s.id);
    store.close();

    store = new SessionStore(file);
    expect(store.recoveredMessages).toBe(0);
    expect(store.getSession(s.id)).toEqual(session);
    expect(session.title).toBe('kept');
    expect(store.listMessages(s.id)).toEqual(before);
  });

  it(`marks messages left running as error "${INTERRUPTED_ERROR}" on reopen`, () => {
    const s = store.createSession({ directory: tmp.dir });
    const running = store.createMessage(s.id, { role: 'assistant', tokenId: null, status: 'running' });
    const pending = store.createMessage(s.id, { role: 'assistant', tokenId: null, status: 'pending' });
    const done = store.createMessage(s.id, { role: 'user', tokenId: null, status: 'completed' });
    store.close();

    store = new SessionStore(file);
    expect(store.recoveredMessages).toBe(2);
    for (const id of [running.id, pending.id]) {
      const m = store.getMessage(id);
      expect(m.status).toBe('error');
      expect(m.error).toBe('interrupted by server restart');
      expect(m.completedAt).not.toBeNull();
    }
    expect(store.getMessage(done.id).status).toBe('completed');
  });

  it('creates the directory 0700 and the database files 0600', () => {
    store.createSession({ directory: tmp.dir }); // a write, so the WAL exists
    expect(mode(path.dirname(file))).toBe(0o700);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      expect(fs.existsSync(f), f).toBe(true);
      expect(mode(f), f).toBe(0o600);
    }
  });

  it('tightens a database file that was made world-readable', () => {
    store.close();
    fs.chmodSync(file, 0o644);
    store = new SessionStore(file);
    expect(mode(file)).toBe(0o600);
  });

  it('defaults to tether.db in the data dir', () => {
    const saved = process.env.XDG_DATA_HOME;
    process.env.XDG_DATA_HOME = path.join(tmp.dir, 'xdg');
    try {
      expect(defaultDbFile()).toBe(path.join(tmp.dir, 'xdg', 'tether', 'tether.db'));
      const s2 = new SessionStore();
      s2.close();
      expect(mode(path.join(tmp.dir, 'xdg', 'tether'))).toBe(0o700);
      expect(mode(defaultDbFile())).toBe(0o600);
    } finally {
      if (saved === undefined) delete process.env.XDG_DATA_HOME;
      else process.env.XDG_DATA_HOME = saved;
    }
  });
});

describe('migrations', () => {
  it('sets user_version to the number of migrations', () => {
    store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(MIGRATIONS.length).toBeGreaterThan(0);
      expect(schemaVersion(db)).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('applies only the missing steps, each with its version bump', () => {
    const other = path.join(tmp.dir, 'm.db');
    const applied: number[] = [];
    const steps = [0, 1, 2].map((i) => () => void applied.push(i));
    openDatabase(other, steps.slice(0, 1)).close();
    const db = openDatabase(other, steps);
    try {
      expect(applied).toEqual([0, 1, 2]);
      expect(schemaVersion(db)).toBe(3);
    } finally {
      db.close();
    }
  });

  it('rolls a failing step back, version included', () => {
    const other = path.join(tmp.dir, 'm.db');
    const steps = [
      (db: Database.Database) => db.exec('CREATE TABLE a (x)'),
      (db: Database.Database) => {
        db.exec('CREATE TABLE b (x)');
        throw new Error('step 2 broke');
      },
    ];
    expect(() => openDatabase(other, steps)).toThrow(/step 2 broke/);
    const db = new Database(other, { readonly: true });
    try {
      expect(schemaVersion(db)).toBe(1);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer tether, naming the file', () => {
    store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    let caught: unknown;
    try {
      store = new SessionStore(file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).message).toContain(file);
    expect((caught as StoreError).message).toMatch(/newer tether/);
    store = { close() {} } as SessionStore; // for afterEach
  });

  it('refuses a file that is not a database, naming it', () => {
    const bad = path.join(tmp.dir, 'bad.db');
    fs.writeFileSync(bad, 'this is not sqlite, just some text that is long enough '.repeat(20));
    expect(() => new SessionStore(bad)).toThrow(StoreError);
    expect(() => new SessionStore(bad)).toThrow(bad);
  });
});
