import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UnavailableError } from '../../src/errors.js';
import { EventBus, type TetherEvent } from '../../src/events.js';
import { PtyManager } from '../../src/pty/index.js';
import { bash, isAlive, processGroup, recorder, script, tempProject, waitFor, type TestClient } from './helpers.js';

let project: string;
let events: TetherEvent[];
let manager: PtyManager;

beforeEach(() => {
  project = tempProject();
  events = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  manager = new PtyManager({ projectDir: project, events: bus, killGraceMs: 200, maxExited: 2 });
});

afterEach(async () => {
  await manager.disposeAll();
  fs.rmSync(project, { recursive: true, force: true });
});

/** Start a background `sleep` from an interactive shell and return its pid (a grandchild). */
async function backgroundSleep(client: TestClient, write: (s: string) => void, tag: string): Promise<number> {
  write(`sleep 1000 & echo ${tag}-pid=$!\n`);
  const m = await waitFor(() => client.text().match(new RegExp(`${tag}-pid=(\\d+)`)), { timeout: 5000, what: `${tag} pid` });
  return Number(m[1]);
}

describe('PtyManager: ending terminals', () => {
  it('kill() ends the shell and its background jobs and removes it from the list', async () => {
    const info = await manager.create(bash());
    const client = recorder();
    const h = manager.attach(info.id, client);
    const bg = await backgroundSleep(client, (s) => h.write(s), 'bg');
    expect(isAlive(info.pid) && isAlive(bg)).toBe(true);
    // Job control put the job in its own process group: killing the shell's group would miss it.
    expect(processGroup(bg)).not.toBe(info.pid);

    await manager.kill(info.id);
    expect(manager.list()).toEqual([]);
    expect(() => manager.get(info.id)).toThrow(NotFoundError);
    expect(isAlive(info.pid)).toBe(false);
    expect(isAlive(bg)).toBe(false);
    // The viewer learns the terminal ended (SIGHUP: no exit code).
    expect(client.exit).toEqual({ exitCode: null, signal: 1 });
    expect(events.map((e) => e.type)).toEqual(['pty.created', 'pty.deleted', 'pty.exited']);
  });

  it('disposeAll() leaves no process behind, including grandchildren and ones ignoring SIGHUP', async () => {
    const pids: number[] = [];
    // 1. An interactive shell with a background job (its own process group under job control).
    const a = await manager.create(bash());
    const ca = recorder();
    const ha = manager.attach(a.id, ca);
    pids.push(a.pid, await backgroundSleep(ca, (s) => ha.write(s), 'a'));
    // 2. A shell busy in a foreground command.
    const b = await manager.create(bash());
    const cb = recorder();
    const hb = manager.attach(b.id, cb);
    pids.push(b.pid, await backgroundSleep(cb, (s) => hb.write(s), 'b'));
    hb.write('sleep 1000\n');
    // 3. A script that ignores SIGHUP, as does its child (ignored signals survive exec): needs SIGKILL.
    const c = await manager.create(script('trap "" HUP; sleep 1000 & echo c-pid=$!; wait'));
    const cc = recorder();
    manager.attach(c.id, cc);
    const m = await waitFor(() => cc.text().match(/c-pid=(\d+)/), { timeout: 5000, what: 'c pid' });
    pids.push(c.pid, Number(m[1]));
    // 4. A script that exited at once, leaving a SIGHUP-proof job behind in its session (being
    //    reaped since the exit: disposeAll must still wait for it).
    const d = await manager.create(script('trap "" HUP; sleep 1000 & echo d-pid=$!'));
    const cd = recorder();
    manager.attach(d.id, cd);
    const md = await waitFor(() => cd.text().match(/d-pid=(\d+)/), { timeout: 5000, what: 'd pid' });
    const leftover = Number(md[1]);

    expect(pids.every(isAlive)).toBe(true);
    pids.push(d.pid, leftover);
    const started = Date.now();
    const { remaining } = await manager.disposeAll();
    expect(remaining).toEqual([]);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(manager.list()).toEqual([]);
    await expect(manager.create(bash())).rejects.toThrow(UnavailableError);
    for (const client of [ca, cb, cc]) expect(client.exit).not.toBeNull();
  });

  it('a terminal that exits takes its leftover background jobs with it', async () => {
    const info = await manager.create(script('sleep 1000 & echo bg-pid=$!'));
    const client = recorder();
    manager.attach(info.id, client);
    const m = await waitFor(() => client.text().match(/bg-pid=(\d+)/), { timeout: 5000, what: 'bg pid' });
    await waitFor(() => client.exit, { timeout: 5000, what: 'exit' });
    expect(client.exit).toEqual({ exitCode: 0, signal: null });
    await waitFor(() => !isAlive(Number(m[1])), { timeout: 5000, what: 'background job reaped' });
  });

  it('keeps exited terminals listed up to maxExited, dropping the oldest', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const info = await manager.create(script(`exit ${i + 1}`));
      ids.push(info.id);
      await waitFor(() => manager.list().find((t) => t.id === info.id)?.status === 'exited', { timeout: 5000, what: 'exit' });
    }
    const listed = manager.list();
    expect(listed.map((t) => t.id)).toEqual(ids.slice(1));
    expect(listed.map((t) => t.exitCode)).toEqual([2, 3]);
    expect(events.filter((e) => e.type === 'pty.deleted').map((e) => e.properties.id)).toEqual([ids[0]]);
    // Killing an exited terminal just removes it.
    await manager.kill(ids[1]);
    expect(manager.list().map((t) => t.id)).toEqual([ids[2]]);
  });

  it('delivers every byte of a process that prints a lot and exits at once', async () => {
    const size = 100_000;
    const runs = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const info = await manager.create(script(`head -c ${size} /dev/zero | tr '\\0' x`));
        const client = recorder();
        manager.attach(info.id, client);
        await waitFor(() => client.exit, { timeout: 10000, what: 'exit' });
        return client.bytes().length;
      }),
    );
    expect(runs).toEqual(runs.map(() => size));
  });
});
