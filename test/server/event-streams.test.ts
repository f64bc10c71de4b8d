// GET /event releases everything it holds, whatever way the request ends, and caps streams per token.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { MAX_EVENT_STREAMS_PER_TOKEN } from '../../src/server/routes/event.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
beforeEach(async () => {
  s = await startTestServer();
});
afterEach(() => s.close());

const subscribers = () => s.server.ctx.events.subscriberCount;
const live = () => s.server.ctx.connections.size;

/** A raw connection that sends `request` and collects what comes back. */
function raw(request: string) {
  const sock = net.connect(s.server.port, '127.0.0.1');
  let text = '';
  let closed = false;
  sock.on('data', (d) => (text += d.toString('latin1')));
  sock.on('error', () => {});
  sock.on('close', () => (closed = true));
  sock.write(request);
  return { sock, text: () => text, closed: () => closed };
}

const get = (token: string, extra = '') => `GET /event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n${extra}\r\n`;

describe('GET /event releases what it holds', () => {
  it('HEAD answers the headers and registers nothing, even while its connection stays open', async () => {
    const { token } = await s.token(['read']);
    const c = raw(`HEAD /event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await waitFor(() => c.text().includes('\r\n\r\n'), { what: 'HEAD response' });
    expect(c.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(c.text()).toMatch(/content-type: text\/event-stream/i);
    expect(subscribers()).toBe(0);
    expect(live()).toBe(0);
    // The same connection still serves a request afterwards (the HEAD response ended).
    c.sock.write(`GET /auth/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await waitFor(() => /"authenticatedBy"/.test(c.text()), { what: 'second response' });
    c.sock.destroy();
  });

  it('a WebSocket upgrade to /event is 400 and leaves nothing behind', async () => {
    const { token } = await s.token(['read', 'write', 'execute']);
    for (let i = 0; i < 20; i++) {
      const c = raw(get(token, 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'));
      await waitFor(() => c.closed(), { what: 'upgrade answered and closed' });
      expect(c.text()).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(subscribers()).toBe(0);
    expect(live()).toBe(0);
  });

  it('pipelined GETs on one connection hold one stream (the rest 409), released when the socket closes', async () => {
    const { token } = await s.token(['read']);
    const c = raw(get(token).repeat(5));
    await waitFor(() => c.text().includes('server.connected'), { what: 'first stream' });
    await waitFor(() => subscribers() >= 1, { what: 'subscribed' });
    // Give the pipelined requests time to be handled; they must not subscribe.
    await waitFor(async () => (await s.fetch('/health')).ok, { what: 'a round trip' });
    expect(subscribers()).toBe(1);
    expect(live()).toBe(1);
    c.sock.destroy();
    await waitFor(() => subscribers() === 0 && live() === 0, { timeout: 2000, what: 'release on close' });
  });

  it('a stream whose client goes away without reading anything is released', async () => {
    const { token } = await s.token(['read']);
    for (let i = 0; i < 10; i++) {
      const c = raw(get(token));
      c.sock.destroy();
    }
    const c = raw(get(token));
    await waitFor(() => subscribers() === 1, { what: 'subscribed' });
    c.sock.end();
    await waitFor(() => subscribers() === 0 && live() === 0, { timeout: 2000, what: 'release after half-close' });
  });

  it(`at most ${MAX_EVENT_STREAMS_PER_TOKEN} concurrent streams per token: 429 too_many_streams beyond, others unaffected`, async () => {
    const a = await s.token(['read']);
    const b = await s.token(['read']);
    const conns: ReturnType<typeof raw>[] = [];
    for (let i = 0; i < MAX_EVENT_STREAMS_PER_TOKEN; i++) conns.push(raw(get(a.token)));
    await waitFor(() => conns.every((c) => c.text().includes('server.connected')), { what: '32 streams' });
    const over = await s.fetch('/event', { token: a.token });
    expect(over.status).toBe(429);
    const e = (await over.json()) as { error: { code: string; message: string } };
    expect(e.error.code).toBe('too_many_streams');
    expect(e.error.message).toContain(String(MAX_EVENT_STREAMS_PER_TOKEN));
    expect(s.server.ctx.connections.count('event', a.id)).toBe(MAX_EVENT_STREAMS_PER_TOKEN);
    // HEAD does not count and is not refused.
    expect((await s.fetch('/event', { token: a.token, method: 'HEAD' })).status).toBe(200);
    // Another token has its own allowance.
    const other = raw(get(b.token));
    await waitFor(() => other.text().includes('server.connected'), { what: 'other token stream' });
    // Closing one frees a slot.
    conns.pop()!.sock.destroy();
    await waitFor(() => s.server.ctx.connections.count('event', a.id) === MAX_EVENT_STREAMS_PER_TOKEN - 1, { what: 'slot freed' });
    const again = raw(get(a.token));
    await waitFor(() => again.text().includes('server.connected'), { what: 'stream after a slot was freed' });
    for (const c of [...conns, other, again]) c.sock.destroy();
    await waitFor(() => subscribers() === 0 && live() === 0, { what: 'all released' });
  });

  it('revoking the token releases a stream whose reader has stopped reading', async () => {
    const { token, id } = await s.token(['read']);
    const c = raw(get(token));
    await waitFor(() => c.text().includes('server.connected'), { what: 'stream' });
    c.sock.pause();
    // Fill the socket buffers so writes to it block.
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 200; i++) s.server.ctx.events.publish('config.updated', { big });
    await deleteTokens([id], s.env.tokenFile);
    const t0 = Date.now();
    await waitFor(() => subscribers() === 0 && live() === 0, { timeout: 3000, what: 'release after revocation' });
    expect(Date.now() - t0).toBeLessThan(2500);
    c.sock.destroy();
  });

  it('a reader too slow for the events is dropped rather than buffered without bound', async () => {
    const { token } = await s.token(['read']);
    const c = raw(get(token));
    await waitFor(() => c.text().includes('server.connected'), { what: 'stream' });
    c.sock.pause();
    const big = 'y'.repeat(16 * 1024);
    await waitFor(
      async () => {
        for (let i = 0; i < 100; i++) s.server.ctx.events.publish('config.updated', { big });
        await new Promise((r) => setImmediate(r));
        return subscribers() === 0;
      },
      { timeout: 10_000, interval: 1, what: 'slow reader dropped' },
    );
    expect(s.logs.some((l) => l.event === 'event.slow_reader')).toBe(true);
    await waitFor(() => live() === 0, { what: 'connection released' });
    c.sock.destroy();
  });
});
