// A session's directory is pinned by device and inode when the session is created (schema v2);
// sessions from before are pinned when the service first loads them. A directory moved away and
// replaced (by a symlink, or a new directory at the same path) is refused for runs.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events.js';
import { MIGRATIONS, openDatabase, schemaVersion } from '../../src/session/db.js';
import { SessionService } from '../../src/session/service.js';
import { SessionStore } from '../../src/session/store.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let project: string;
let dbFile: string;
let store: SessionStore | undefined;

beforeEach(() => {
  tmp = tempDir();
  project = path.join(tmp.dir, 'project');
  fs.mkdirSync(path.join(project, 'work'), { recursive: true });
  fs.mkdirSync(path.join(project, 'other'));
  dbFile = path.join(tmp.dir, 'data', 'tether.db');
});
afterEach(() => {
  store?.close();
  store = undefined;
  tmp.cleanup();
});

const open = () => {
  store = new SessionStore(dbFile);
  return new SessionService({ store, events: new EventBus(), projectDir: project, shell: { killGraceMs: 200 } });
};
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );
const idOf = (p: string) => {
  const st = fs.statSync(p, { bigint: true });
  return `${st.dev}:${st.ino}`;
};

describe('session directory pins', () => {
  it('pins at creation and refuses a directory swapped for a symlink to another one inside the project', async () => {
    const service = open();
    const s = await service.create({ directory: 'work' });
    expect(store!.directoryId(s.id)).toBe(idOf(path.join(project, 'work')));
    expect(await service.directory(s.id)).toEqual({ path: path.join(project, 'work'), pin: idOf(path.join(project, 'work')) });

    fs.renameSync(path.join(project, 'work'), path.join(project, 'work.moved'));
    fs.symlinkSync('other', path.join(project, 'work'));
    expect(await code(service.directory(s.id))).toBe('session_directory_replaced');
    expect(await code(service.runShell(s.id, { command: 'touch ran' }, null))).toBe('session_directory_replaced');
    expect(fs.existsSync(path.join(project, 'other', 'ran'))).toBe(false);
    expect(service.listMessages(s.id)).toEqual([]);
    expect(service.isBusy(s.id)).toBe(false);

    // A new, empty directory at the same path is not the session's either.
    fs.unlinkSync(path.join(project, 'work'));
    fs.mkdirSync(path.join(project, 'work'));
    expect(await code(service.directory(s.id))).toBe('session_directory_replaced');

    // The original, moved back, is.
    fs.rmdirSync(path.join(project, 'work'));
    fs.renameSync(path.join(project, 'work.moved'), path.join(project, 'work'));
    expect((await service.runShell(s.id, { command: 'true' }, null)).status).toBe('completed');
  });

  it('a directory swapped for a symlink out of the project stays 403 path_outside_root', async () => {
    const service = open();
    const s = await service.create({ directory: 'work' });
    fs.rmdirSync(path.join(project, 'work'));
    fs.symlinkSync(tmp.dir, path.join(project, 'work'));
    expect(await code(service.directory(s.id))).toBe('path_outside_root');
  });

  it('sessions from before pins (schema v1) are pinned when first loaded, and refused once replaced', async () => {
    // A v1 database with one session, as an older tether left it.
    fs.mkdirSync(path.dirname(dbFile));
    const v1 = openDatabase(dbFile, MIGRATIONS.slice(0, 1));
    v1.prepare("INSERT INTO sessions VALUES ('ses_old', 'old', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')").run(path.join(project, 'work'));
    v1.prepare("INSERT INTO sessions VALUES ('ses_gone', 'gone', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')").run(path.join(project, 'gone'));
    v1.close();

    const service = open();
    const check = new Database(dbFile, { readonly: true });
    try {
      expect(schemaVersion(check)).toBe(MIGRATIONS.length);
    } finally {
      check.close();
    }
    expect(store!.directoryId('ses_old')).toBe(idOf(path.join(project, 'work')));
    // Missing when loaded: not pinned (it is refused as missing when used).
    expect(store!.directoryId('ses_gone')).toBeNull();
    expect(await code(service.directory('ses_gone'))).toBe('session_directory_missing');

    fs.renameSync(path.join(project, 'work'), path.join(project, 'work.moved'));
    fs.symlinkSync('other', path.join(project, 'work'));
    expect(await code(service.directory('ses_old'))).toBe('session_directory_replaced');
  });

  it('an unpinned session whose directory appears later is pinned on its first use', async () => {
    const service = open();
    const s = await service.create({ directory: 'work' });
    store!.close();
    // Simulate a row without a pin whose directory was missing at load.
    const db = new Database(dbFile);
    db.prepare('UPDATE sessions SET directory_id = NULL WHERE id = ?').run(s.id);
    db.close();
    fs.renameSync(path.join(project, 'work'), path.join(project, 'work.away'));
    const service2 = open();
    expect(store!.directoryId(s.id)).toBeNull();
    fs.renameSync(path.join(project, 'work.away'), path.join(project, 'work'));
    expect((await service2.directory(s.id)).pin).toBe(idOf(path.join(project, 'work')));
    expect(store!.directoryId(s.id)).toBe(idOf(path.join(project, 'work')));
  });
});
