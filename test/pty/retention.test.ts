// Exited terminals stay listed (as exited) for exitedRetentionMs after they exit, then leave the
// list with a pty.deleted event. The clock is injected: no test waits ten minutes.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { EventBus, type TetherEvent } from '../../src/events.js';
import { PtyManager } from '../../src/pty/index.js';
import { bash, recorder, script, tempProject, waitFor } from './helpers.js';

const TEN_MINUTES = 10 * 60_000;
let project: string;
let events: TetherEvent[];
let clock: number;

beforeEach(() => {
  project = tempProject();
  events = [];
  clock = 1_000_000;
});
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

function manager(options: { exitedRetentionMs?: number } = {}): PtyManager {
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  return new PtyManager({ projectDir: project, events: bus, killGraceMs: 200, now: () => clock, ...options });
}

describe('PtyManager: exited terminals leave the list after a while', () => {
  it('by default 10 minutes after they exited, not after they were created; running ones stay', async () => {
    const m = manager();
    try {
      const quick = await m.create(bash());
      const running = await m.create(bash());
      clock += 5 * 60_000; // it exits five minutes after it was created
      m.attach(quick.id, recorder()).write('exit 3\n');
      await waitFor(() => m.list().find((t) => t.id === quick.id)?.status === 'exited', { what: 'the terminal to exit' });
      expect(m.get(quick.id)).toMatchObject({ status: 'exited', exitCode: 3 });

      clock += TEN_MINUTES - 1;
      expect(m.list().map((t) => t.id)).toEqual([quick.id, running.id]);
      expect(events.some((e) => e.type === 'pty.deleted')).toBe(false);

      clock += 1;
      expect(m.list().map((t) => t.id)).toEqual([running.id]);
      expect(() => m.get(quick.id)).toThrow(NotFoundError);
      expect(events.filter((e) => e.type === 'pty.deleted').map((e) => e.properties)).toEqual([{ id: quick.id }]);

      // Running terminals are never dropped by age.
      clock += 100 * TEN_MINUTES;
      expect(m.list().map((t) => t.id)).toEqual([running.id]);
    } finally {
      await m.disposeAll();
    }
  });

  it('the sweep runs without anyone listing (so watchers get pty.deleted), and a removed terminal is not deleted twice', async () => {
    const m = manager({ exitedRetentionMs: 1000 });
    try {
      const a = await m.create(script('true'));
      const b = await m.create(script('true'));
      await waitFor(() => m.list().every((t) => t.status === 'exited'), { what: 'both to exit' });
      await m.kill(b.id); // removed by hand before its time
      clock += 1000;
      m.sweepExited();
      m.sweepExited();
      expect(events.filter((e) => e.type === 'pty.deleted').map((e) => (e.properties as { id: string }).id)).toEqual([b.id, a.id]);
      expect(m.list()).toEqual([]);
    } finally {
      await m.disposeAll();
    }
  });
});
