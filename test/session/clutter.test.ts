// Issue 12, clutter: sessions are titled from their first message; a server lists only its own
// project's sessions (the database is shared by every server of the user), and refuses to run in
// another project's with a clear error.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, UnavailableError } from '../../src/errors.js';
import { EventBus, type TetherEvent } from '../../src/events.js';
import { SessionService } from '../../src/session/service.js';
import { DEFAULT_TITLE, SessionStore } from '../../src/session/store.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let store: SessionStore;
let events: TetherEvent[];
let model: FakeModel;

const service = (project: string, withModel = false) => {
  fs.mkdirSync(project, { recursive: true });
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  return new SessionService({
    store,
    events: bus,
    projectDir: project,
    shell: { killGraceMs: 200 },
    agent: { config: () => Promise.resolve(withModel ? { modelUrl: model.baseURL, model: 'm' } : {}), env: () => ({}), maxRetries: 0 },
  });
};

beforeEach(async () => {
  tmp = tempDir();
  store = new SessionStore(path.join(tmp.dir, 'data', 'tether.db'));
  events = [];
  model = await startFakeModel();
});
afterEach(async () => {
  store.close();
  tmp.cleanup();
  await model.close();
});

describe('session titles from the first message', () => {
  it('an untitled session takes its first shell command as title, once, announced as session.updated', async () => {
    const svc = service(path.join(tmp.dir, 'p'));
    const s = await svc.create();
    expect(s.title).toBe(DEFAULT_TITLE);
    await svc.runShell(s.id, { command: '  npm test -- --run\nsecond line' }, null);
    expect(svc.get(s.id).title).toBe('npm test -- --run');
    expect(events.find((e) => e.type === 'session.updated')?.properties).toMatchObject({ session: { id: s.id, title: 'npm test -- --run' } });
    await svc.runShell(s.id, { command: 'echo later' }, null);
    expect(svc.get(s.id).title).toBe('npm test -- --run');
  });

  it('an agent prompt titles it too; a refused prompt (no model) does not', async () => {
    const none = service(path.join(tmp.dir, 'p'));
    const s = await none.create();
    await expect(none.runAgent(s.id, { text: 'refused' }, null)).rejects.toBeInstanceOf(UnavailableError);
    expect(none.get(s.id).title).toBe(DEFAULT_TITLE);
    model.reply({ text: ['ok'] });
    const svc = service(path.join(tmp.dir, 'p'), true);
    await svc.runAgent(s.id, { text: 'Explain the session store\nin detail' }, null);
    expect(svc.get(s.id).title).toBe('Explain the session store');
  });

  it('a title someone chose is never replaced, nor is an old untitled session that already has messages', async () => {
    const svc = service(path.join(tmp.dir, 'p'));
    const named = await svc.create({ title: 'my work' });
    await svc.runShell(named.id, { command: 'echo 1' }, null);
    expect(svc.get(named.id).title).toBe('my work');
    const renamed = await svc.create();
    svc.update(renamed.id, { title: 'renamed' });
    await svc.runShell(renamed.id, { command: 'echo 2' }, null);
    expect(svc.get(renamed.id).title).toBe('renamed');
    const old = await svc.create();
    store.createMessage(old.id, { role: 'user', tokenId: null, status: 'completed', parts: [{ type: 'text', data: { text: 'from before' } }] });
    await svc.runShell(old.id, { command: 'echo 3' }, null);
    expect(svc.get(old.id).title).toBe(DEFAULT_TITLE);
  });
});

describe('sessions of another project', () => {
  it('are not listed, and reading, changing or running in one is refused, without naming its directory', async () => {
    const a = service(path.join(tmp.dir, 'a'));
    const b = service(path.join(tmp.dir, 'b'));
    const mine = await a.create();
    const theirs = await b.create();
    expect(a.list().map((s) => s.id)).toEqual([mine.id]);
    expect(b.list().map((s) => s.id)).toEqual([theirs.id]);
    const err = await a.runShell(theirs.id, { command: 'echo no' }, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({ code: 'session_other_project' });
    expect((err as Error).message).toBe(
      `session ${theirs.id} belongs to another project, outside this server's project ${path.join(tmp.dir, 'a')}; ` +
        'use it from a server started with that project, or start a new session here',
    );
    // Every by-id route goes through get(): the same refusal there.
    expect(() => a.get(theirs.id)).toThrow(expect.objectContaining({ code: 'session_other_project' }));
    expect(b.get(theirs.id).id).toBe(theirs.id);
    expect(b.listMessages(theirs.id)).toEqual([]);
  });
});
