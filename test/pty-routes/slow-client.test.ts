// Flow control over WebSockets (README "Terminals"). A slow reader slows the program instead of
// being cut off, and gets every byte; a client that alone holds the others back is closed (4008)
// after slowClientTimeoutMs. This file used to assert the rule flow control replaced (a client
// more than 8 MiB behind was closed at once); it now asserts the new one. After an exit, a slow
// reader still gets the output's tail, unless its token is revoked.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { connect, startPtyServer, throttle, waitFor, type PtyServer } from './helpers.js';

const MiB = 1024 * 1024;
/** Lines of `seq`: about 20 MB, more than loopback's socket buffers hold, so the server must pace it. */
const LINES = 2_600_000;

let s: PtyServer | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await s?.close();
  s = undefined;
});

/** What the terminal prints: the echo of the Enter that starts it, then `seq 1 LINES` (onlcr: \r\n). */
function expectedOutput(): { length: number; sha256: string } {
  const hash = createHash('sha256').update('\r\n');
  let length = 2;
  const batch: string[] = [];
  for (let i = 1; i <= LINES; i++) {
    batch.push(`${i}\r\n`);
    if (batch.length === 100_000 || i === LINES) {
      const text = batch.join('');
      hash.update(text, 'latin1');
      length += text.length;
      batch.length = 0;
    }
  }
  return { length, sha256: hash.digest('hex') };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const PRODUCER = { command: 'bash', args: ['--norc', '--noprofile', '-c', `read -r _; seq 1 ${LINES}`] };

describe('a slow WebSocket reader', () => {
  it('alone: slows the program, is not closed, and gets every byte in order', { timeout: 90_000 }, async () => {
    // A timeout far shorter than the run: a lone slow client must never be closed.
    s = await startPtyServer({ manager: { slowClientTimeoutMs: 200 } });
    const expected = expectedOutput();
    const server = s;
    const info = (await server.createPty(PRODUCER)) as { id: string };
    const c = await connect(`${server.wsUrl}/pty/${info.id}/connect`, { token: server.admin });
    let received = 0; // counted here: c.bytes() copies everything so far
    c.ws.on('message', (d: Buffer, binary) => binary && (received += d.length));
    let statusAtQuarter: string | null = null;
    stops.push(
      throttle(c, () => {
        if (statusAtQuarter === null && received >= expected.length / 4) statusAtQuarter = server.manager.get(info.id).status;
        return 4_000_000;
      }),
    );
    c.type('\r');
    const closed = await c.waitClose(80_000);

    expect(closed).toEqual({ code: 1000, reason: 'exit:0' });
    expect(c.controls).toEqual([{ type: 'exit', exitCode: 0, signal: null }]);
    const got = c.bytes();
    expect(got.length).toBe(expected.length);
    expect(sha256(got)).toBe(expected.sha256);
    // Slowed: a quarter of the way through the reader, the program had not finished (unpaced, it
    // is done long before: socket buffers hold a few MB, the server at most ~1 MiB more).
    expect(statusAtQuarter).toBe('running');
    await waitFor(() => server.server.ctx.connections.size === 0, { what: 'connections released' });
  });

  it('with a fast client: is closed with 4008 after the timeout while the fast one gets everything', async () => {
    const TIMEOUT = 1000;
    s = await startPtyServer({ manager: { slowClientTimeoutMs: TIMEOUT }, closeGraceMs: 60_000 });
    const expected = expectedOutput();
    const info = (await s.createPty(PRODUCER)) as { id: string };
    const url = `${s.wsUrl}/pty/${info.id}/connect`;
    const fast = await connect(url, { token: s.admin });
    const slow = await connect(url, { token: s.admin });
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing
    const started = Date.now();
    fast.type('\r');
    const fastClosed = await fast.waitClose(60_000);
    expect(fastClosed).toEqual({ code: 1000, reason: 'exit:0' });
    expect(fast.bytes().length).toBe(expected.length);
    expect(sha256(fast.bytes())).toBe(expected.sha256);

    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    const slowClosed = await slow.waitClose(30_000);
    expect(slowClosed).toEqual({ code: 4008, reason: 'client too slow: held back the other clients of this terminal for over 1 s' });
    expect(slow.closedAt! - started).toBeGreaterThanOrEqual(TIMEOUT);
    expect(slow.bytes().length).toBeLessThan(expected.length);
    expect(slow.controls).toEqual([]);
    await waitFor(() => s!.server.ctx.connections.size === 0, { what: 'connections released' });
  });
});

describe('closing after the exit, to a slow reader', () => {
  // A replay larger than loopback's socket buffers hold, so most of it waits in the server.
  const REPLAY = 16 * MiB;

  /** A terminal that printed 20 MB and exited: attaching replays its last 16 MiB, then closes (1000). */
  async function exitedTerminal(server: PtyServer): Promise<string> {
    const script = `head -c 20000000 /dev/zero | tr '\\0' r`;
    const info = (await server.createPty({ command: 'bash', args: ['--norc', '--noprofile', '-c', script] })) as { id: string };
    await waitFor(() => server.manager.get(info.id).status === 'exited', { timeout: 20_000, what: 'the terminal to exit' });
    return info.id;
  }

  it('waits past the close grace while the reader takes data: the tail is not cut off', { timeout: 60_000 }, async () => {
    // Reading 16 MiB at 4 MB/s takes about 4 s, far past the 300 ms grace.
    s = await startPtyServer({ manager: { scrollbackBytes: REPLAY }, closeGraceMs: 300 });
    const id = await exitedTerminal(s);
    const c = await connect(`${s.wsUrl}/pty/${id}/connect`, { token: s.admin, paused: true });
    stops.push(throttle(c, () => 4_000_000));
    const closed = await c.waitClose(40_000);
    expect(closed).toEqual({ code: 1000, reason: 'exit:0' });
    expect(c.controls).toEqual([{ type: 'exit', exitCode: 0, signal: null }]);
    expect(c.bytes().equals(Buffer.alloc(REPLAY, 'r'))).toBe(true);
  });

  it('cuts such a reader off at once when its token is revoked', async () => {
    s = await startPtyServer({ manager: { scrollbackBytes: REPLAY }, closeGraceMs: 60_000 });
    const server = s;
    const id = await exitedTerminal(server);
    const doomed = await server.token(['read', 'execute']);
    // Reads nothing: the server still holds most of the replay when the token goes.
    const c = await connect(`${server.wsUrl}/pty/${id}/connect`, { token: doomed.token, paused: true });
    const sock = (c.ws as unknown as { _socket: { resume(): void } })._socket;
    await deleteTokens([doomed.id], server.env.tokenFile);
    // The sweep (every 250 ms) unregisters the connection and cuts it in the same step.
    await waitFor(() => server.server.ctx.connections.size === 0, { timeout: 5000, what: 'the revoked connection to be released' });
    sock.resume();
    const closed = await c.waitClose(10_000);
    expect(closed.code).toBe(1006); // cut off: no close frame
    expect(c.bytes().length).toBeLessThan(REPLAY);
  });
});
