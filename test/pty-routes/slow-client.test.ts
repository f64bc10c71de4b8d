// Backpressure: a client that stops reading is cut off with 4008 once the server has buffered more
// than the limit for it (the manager polls ws.bufferedAmount); the other clients get everything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, startPtyServer, waitFor, type PtyServer } from './helpers.js';

const LIMIT = 256 * 1024;
const TOTAL = 20_000_000;
let s: PtyServer;
beforeAll(async () => {
  s = await startPtyServer({ manager: { clientBufferLimit: LIMIT }, closeGraceMs: 60_000 });
});
afterAll(async () => {
  await s?.close();
});

describe('slow client', () => {
  it('is closed with 4008 while a reading client gets all output and the exit', async () => {
    const info = await s.createPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', `read -r _; head -c ${TOTAL} /dev/zero | tr '\\0' a`] });
    const url = `${s.wsUrl}/pty/${info.id}/connect`;
    const fast = await connect(url, { token: s.admin });
    const slow = await connect(url, { token: s.admin });
    (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    fast.type('\r');
    const fastClosed = await fast.waitClose(30_000);
    expect(fastClosed).toEqual({ code: 1000, reason: 'exit:0' });
    expect(fast.bytes().filter((b) => b === 0x61).length).toBe(TOTAL);

    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const slowClosed = await slow.waitClose(30_000);
    expect(slowClosed.code).toBe(4008);
    expect(slowClosed.reason).toMatch(/too slow/);
    expect(slow.bytes().length).toBeLessThan(TOTAL);
    expect(slow.controls).toEqual([]);
    await waitFor(() => s.server.ctx.connections.size === 0, { what: 'connections released' });
  });
});
