// Stopping the server ends every terminal it started, background jobs included, and tells clients.
import { describe, expect, it } from 'vitest';
import { isAlive } from '../pty/helpers.js';
import { connect, ready, startPtyServer, waitFor } from './helpers.js';

describe('shutdown', () => {
  it('after server.close() no process it spawned is alive, and clients got 1001', async () => {
    const s = await startPtyServer();
    const pids: number[] = [];
    const clients = [];
    for (let i = 0; i < 2; i++) {
      const pty = await s.createPty();
      pids.push(pty.pid);
      const t = await connect(`${s.wsUrl}/pty/${pty.id}/connect`, { token: s.admin });
      await ready(t);
      // Background grandchildren: a job in its own process group (job control), and a nohup'd one.
      t.type('sleep 1000 & echo BG=$!\r');
      const m = /BG=(\d+)/.exec(await t.waitText(/BG=\d+/));
      pids.push(Number(m![1]));
      t.type('nohup sleep 1001 >/dev/null 2>&1 & echo NH=$!\r');
      pids.push(Number(/NH=(\d+)/.exec(await t.waitText(/NH=\d+/))![1]));
      clients.push(t);
    }
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} before close`).toBe(true);

    await s.close();
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} after close`).toBe(false);
    for (const t of clients) {
      const closed = await waitFor(() => t.closed, { what: 'client close' });
      expect(closed).toEqual({ code: 1001, reason: 'server shutting down' });
    }
  });
});
