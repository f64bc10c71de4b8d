import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, UsageError } from '../../src/errors.js';
import { EventBus, type TetherEvent } from '../../src/events.js';
import { SessionService } from '../../src/session/service.js';
import { SHELL } from '../../src/session/shell.js';
import { SessionStore } from '../../src/session/store.js';
import type { ShellPartData } from '../../src/session/types.js';
import { isAlive, tempDir, waitFor } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let project: string;
let store: SessionStore;
let events: TetherEvent[];
let service: SessionService;

beforeEach(() => {
  tmp = tempDir();
  project = path.join(tmp.dir, 'project');
  fs.mkdirSync(path.join(project, 'sub'), { recursive: true });
  store = new SessionStore(path.join(tmp.dir, 'data', 'tether.db'));
  const bus = new EventBus();
  events = [];
  bus.subscribe((e) => events.push(e));
  service = new SessionService({ store, events: bus, projectDir: project, shell: { killGraceMs: 200 } });
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

const types = () => events.map((e) => e.type);

describe('sessions', () => {
  it('creates in the project by default or in a directory inside it, and publishes changes', async () => {
    const a = await service.create({});
    expect(a.directory).toBe(project);
    const b = await service.create({ title: 'sub', directory: 'sub' });
    expect(b.directory).toBe(path.join(project, 'sub'));
    const c = await service.create({ directory: path.join(project, 'sub') });
    expect(c.directory).toBe(path.join(project, 'sub'));

    expect(service.update(a.id, { title: 'renamed' }).title).toBe('renamed');
    service.delete(b.id);
    expect(() => service.get(b.id)).toThrow(NotFoundError);
    expect(
      service
        .list()
        .map((s) => s.id)
        .sort(),
    ).toEqual([a.id, c.id].sort());

    expect(types()).toEqual(['session.created', 'session.created', 'session.created', 'session.updated', 'session.deleted']);
    expect(events[0].properties).toEqual({ session: a });
    expect(events[3].properties).toMatchObject({ session: { id: a.id, title: 'renamed' } });
    expect(events[4].properties).toEqual({ sessionId: b.id });
  });

  it('rejects directories outside the project, missing ones and files', async () => {
    await expect(service.create({ directory: '..' })).rejects.toThrow(ForbiddenError);
    await expect(service.create({ directory: tmp.dir })).rejects.toThrow(ForbiddenError);
    fs.symlinkSync(tmp.dir, path.join(project, 'escape'));
    await expect(service.create({ directory: 'escape' })).rejects.toThrow(ForbiddenError);
    await expect(service.create({ directory: 'missing' })).rejects.toThrow(/does not exist/);
    fs.writeFileSync(path.join(project, 'file'), '');
    await expect(service.create({ directory: 'file' })).rejects.toThrow(/not a directory/);
    expect(service.list()).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe('runShell', () => {
  it('records one shell message with the command and its result', async () => {
    const s = await service.create({ directory: 'sub' });
    const m = await service.runShell(s.id, { command: 'pwd; echo err >&2; exit 2' }, 'tok_1');
    expect(m).toMatchObject({ role: 'shell', tokenId: 'tok_1', status: 'completed', error: null });
    expect(m.parts).toHaveLength(1);
    const data = m.parts[0].data as ShellPartData;
    expect(m.parts[0].type).toBe('shell');
    expect(data).toMatchObject({
      command: 'pwd; echo err >&2; exit 2',
      cwd: path.join(project, 'sub'),
      done: true,
      exitCode: 2,
      stdout: `${path.join(project, 'sub')}\n`,
      stderr: 'err\n',
      timedOut: false,
      aborted: false,
    });
    expect(service.listMessages(s.id)).toEqual([m]);
    expect(service.isBusy(s.id)).toBe(false);

    // session.updated: the untitled session took its title from its first command (issue 12).
    expect(types()).toEqual(['session.created', 'session.updated', 'message.created', 'message.part', 'message.part.updated', 'message.completed']);
    expect(events[1].properties).toMatchObject({ session: { id: s.id, title: 'pwd; echo err >&2; exit 2' } });
    expect(events[2].properties).toMatchObject({ sessionId: s.id, message: { id: m.id, status: 'running' } });
    expect(events[3].properties).toMatchObject({
      sessionId: s.id,
      messageId: m.id,
      part: { type: 'shell', data: { command: 'pwd; echo err >&2; exit 2', done: false } },
    });
    expect(events[5].properties).toEqual({ sessionId: s.id, messageId: m.id, status: 'completed', error: null });
  });

  it('records a timeout as an error', async () => {
    const s = await service.create();
    const m = await service.runShell(s.id, { command: 'sleep 30', timeoutMs: 300 }, null);
    expect(m.status).toBe('error');
    expect(m.error).toBe('command timed out after 300 ms');
    expect((m.parts[0].data as ShellPartData).timedOut).toBe(true);
  });

  it('refuses bad input before recording anything', async () => {
    const s = await service.create();
    await expect(service.runShell(s.id, { command: '' }, null)).rejects.toThrow(UsageError);
    await expect(service.runShell(s.id, { command: 'true', timeoutMs: 0 }, null)).rejects.toThrow(/timeoutMs/);
    await expect(service.runShell('ses_nope', { command: 'true' }, null)).rejects.toThrow(NotFoundError);
    expect(service.listMessages(s.id)).toEqual([]);
    expect(service.isBusy(s.id)).toBe(false);
  });

  it("runs the runner's default shell (bash, else /bin/sh): a `shell` slipped into the service's options never reaches the runner", async () => {
    // Typed callers cannot pass one (SessionShellOptions has no `shell`); an untyped one is ignored.
    const other = new SessionService({ store, events: new EventBus(), projectDir: project, shell: { killGraceMs: 200, shell: process.execPath } as never });
    const s = await other.create();
    const m = await other.runShell(s.id, { command: 'echo "$0"' }, null);
    expect(m.status).toBe('completed');
    expect(m.parts[0].data).toMatchObject({ exitCode: 0, stdout: `${SHELL}\n` });
  });

  it('refuses to run in a directory that has gone away', async () => {
    const s = await service.create({ directory: 'sub' });
    fs.rmSync(path.join(project, 'sub'), { recursive: true });
    await expect(service.runShell(s.id, { command: 'true' }, null)).rejects.toThrow(/does not exist/);
    expect(service.isBusy(s.id)).toBe(false);
  });
});

describe('one run per session', () => {
  /** Starts a long command and waits until it is running. */
  async function startLong(sessionId: string) {
    const pidFile = path.join(tmp.dir, `${sessionId}.pid`);
    const done = service.runShell(sessionId, { command: `sleep 30 & echo $! > ${pidFile}; wait` }, null);
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').endsWith('\n'), { what: 'command start' });
    return { done, pid: Number(fs.readFileSync(pidFile, 'utf8')) };
  }

  it('gives a second request in the same session a 409, but not one in another session', async () => {
    const a = await service.create();
    const b = await service.create();
    const long = await startLong(a.id);
    expect(service.isBusy(a.id)).toBe(true);

    const err = await service.runShell(a.id, { command: 'true' }, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ status: 409, code: 'session_busy' });
    expect((err as Error).message).toMatch(/busy.*abort it or wait/);
    expect(() => service.beginRun(a.id)).toThrow(ConflictError);

    const other = await service.runShell(b.id, { command: 'echo free' }, null);
    expect((other.parts[0].data as ShellPartData).stdout).toBe('free\n');

    expect(service.abort(a.id)).toBe(true);
    const aborted = await long.done;
    expect(aborted.status).toBe('aborted');
    expect((aborted.parts[0].data as ShellPartData).aborted).toBe(true);
    await waitFor(() => !isAlive(long.pid), { what: 'aborted command to die' });
    expect(events.at(-1)).toMatchObject({ type: 'message.completed', properties: { messageId: aborted.id, status: 'aborted' } });

    // Free again.
    expect(service.abort(a.id)).toBe(false);
    const again = await service.runShell(a.id, { command: 'echo again' }, null);
    expect(again.status).toBe('completed');
  });

  it('beginRun gives the agent a signal that abort() fires, and end() frees the session', async () => {
    const s = await service.create();
    const run = service.beginRun(s.id);
    expect(run.signal.aborted).toBe(false);
    expect(service.isBusy(s.id)).toBe(true);
    expect(service.abort(s.id)).toBe(true);
    expect(run.signal.aborted).toBe(true);
    expect(service.isBusy(s.id)).toBe(true); // until the run winds down
    run.end();
    run.end(); // idempotent
    expect(service.isBusy(s.id)).toBe(false);
    expect(() => service.beginRun('ses_nope')).toThrow(NotFoundError);
    expect(() => service.abort('ses_nope')).toThrow(NotFoundError);
  });

  it('a caller signal (e.g. the HTTP request) aborts the run too', async () => {
    const s = await service.create();
    const parent = new AbortController();
    const run = service.beginRun(s.id, { signal: parent.signal });
    parent.abort();
    expect(run.signal.aborted).toBe(true);
    run.end();
  });

  it('deleting a busy session aborts its run', async () => {
    const s = await service.create();
    const long = await startLong(s.id);
    service.delete(s.id);
    await expect(long.done).rejects.toThrow(/was deleted while the command ran/);
    await waitFor(() => !isAlive(long.pid), { what: 'command of the deleted session to die' });
    expect(service.isBusy(s.id)).toBe(false);
    expect(() => service.get(s.id)).toThrow(NotFoundError);
  });

  it('the agent writes messages through the service and events go out', async () => {
    const s = await service.create();
    const run = service.beginRun(s.id);
    try {
      service.createMessage(s.id, { role: 'user', tokenId: 't', status: 'completed', parts: [{ type: 'text', data: { text: 'hi' } }] });
      const reply = service.createMessage(s.id, { role: 'assistant', tokenId: 't' });
      const part = service.appendPart(reply.id, { type: 'text', data: { text: 'H' } });
      service.updatePart(part.id, { text: 'Hello' });
      service.finishMessage(reply.id, { status: 'completed' });
    } finally {
      run.end();
    }
    expect(types().slice(1)).toEqual(['message.created', 'message.created', 'message.part', 'message.part.updated', 'message.completed']);
    expect(events[4].properties).toMatchObject({ sessionId: s.id, part: { data: { text: 'Hello' } } });
    expect(service.listMessages(s.id).map((m) => m.parts.map((p) => p.data))).toEqual([[{ text: 'hi' }], [{ text: 'Hello' }]]);
  });
});
