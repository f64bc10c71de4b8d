// Header/request timeouts and socket caps: stalled clients are closed or pushed out, busy ones
// (requests in flight, event streams, terminals) are kept, and a valid client gets through.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketLimits, defaultMaxConnections } from '../../src/server/socket-limits.js';
import type { ServerLimits } from '../../src/server/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { bash, connect, startPtyServer } from '../pty-routes/helpers.js';

let s: TestServer | undefined;
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await s?.close();
  s = undefined;
});

async function server(limits: Partial<ServerLimits>, heartbeatMs?: number) {
  s = await startTestServer({ limits, ...(heartbeatMs ? { heartbeatMs } : {}) });
  return s;
}

/** A socket that sends `text` (e.g. half a request) and then nothing; records when it is closed. */
function stalled(port: number, text: string) {
  const sock = net.connect(port, '127.0.0.1');
  clients.push(sock);
  const state = { sock, closed: false, data: '' };
  sock.on('data', (d) => (state.data += d.toString()));
  sock.on('close', () => (state.closed = true));
  sock.on('error', () => {});
  if (text) sock.write(text);
  return state;
}

const connected = (sock: net.Socket) => new Promise<void>((r) => (sock.connecting ? sock.once('connect', () => r()) : r()));
const HALF = 'GET /auth/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ';

describe('timeouts', () => {
  it('a half-sent request and a silent connection are closed once headersTimeout passes', async () => {
    const t = await server({ headersTimeoutMs: 1000 });
    const half = stalled(t.server.port, HALF);
    const silent = stalled(t.server.port, '');
    const t0 = Date.now();
    await waitFor(() => half.closed && silent.closed, { timeout: 5000, what: 'stalled sockets closed' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(half.data).toMatch(/^HTTP\/1\.1 408|^$/);
  });

  it('an event stream and a terminal WebSocket outlive requestTimeout (it covers receiving the request only)', async () => {
    const p = await startPtyServer({}, { limits: { headersTimeoutMs: 300, requestTimeoutMs: 600 }, heartbeatMs: 100 });
    s = p;
    const { token } = await p.token(['read']);
    const ctl = new AbortController();
    const r = await p.fetch('/event', { token, signal: ctl.signal });
    const reader = r.body!.getReader();
    const pty = await p.createPty(bash());
    const term = await connect(`${p.wsUrl}/pty/${pty.id}/connect`, { token: p.admin, protocols: ['tether'] });
    const t0 = Date.now();
    let beats = 0;
    while (Date.now() - t0 < 2000) {
      const chunk = await reader.read();
      expect(chunk.done).toBe(false);
      beats += (new TextDecoder().decode(chunk.value).match(/heartbeat/g) ?? []).length;
    }
    expect(beats).toBeGreaterThan(5);
    term.type('echo still-$((40+2))\r');
    await term.waitText('still-42');
    expect(term.closed).toBeNull();
    ctl.abort();
    term.close();
  });
});

describe('socket caps', () => {
  it('past the total cap the oldest idle sockets are closed; a valid client and busy streams are kept', async () => {
    const t = await server({ maxConnections: 20 });
    const { token } = await t.token(['read']);
    const ctl = new AbortController();
    const stream = await t.fetch('/event', { token, signal: ctl.signal });
    const reader = stream.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('server.connected');
    const flood = Array.from({ length: 60 }, () => stalled(t.server.port, HALF));
    await Promise.all(flood.map((f) => connected(f.sock)));
    await waitFor(() => t.server.sockets.stats.shed >= 40, { what: 'oldest idle sockets shed' });
    expect(t.server.sockets.stats.open).toBeLessThanOrEqual(20);
    // The oldest went first.
    await waitFor(() => flood.slice(0, 40).every((f) => f.closed), { what: 'the first 40 closed' });
    expect(flood.slice(-10).some((f) => !f.closed)).toBe(true);
    // A valid client still gets an answer, repeatedly.
    for (let i = 0; i < 5; i++) expect((await t.fetch('/auth/whoami', { token })).status).toBe(200);
    // The event stream, busy all along, is intact.
    expect(t.server.ctx.events.subscriberCount).toBe(1);
    t.server.ctx.events.publish('config.updated', { n: 1 });
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('config.updated');
    ctl.abort();
  });

  it('an open terminal WebSocket is busy: a flood of half-sent requests does not push it out', async () => {
    const p = await startPtyServer({}, { limits: { maxConnections: 10 } });
    s = p;
    const pty = await p.createPty(bash());
    const term = await connect(`${p.wsUrl}/pty/${pty.id}/connect`, { token: p.admin, protocols: ['tether'] });
    const flood = Array.from({ length: 40 }, () => stalled(p.server.port, HALF));
    await Promise.all(flood.map((f) => connected(f.sock)));
    await waitFor(() => p.server.sockets.stats.shed >= 30, { what: 'flood shed' });
    term.type('echo kept-$((6*7))\r');
    await term.waitText('kept-42');
    expect(term.closed).toBeNull();
    term.close();
  });

  it('over TLS too: the stream is recognised as busy and kept, stalled handshakes are pushed out', async () => {
    const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/tls');
    const ca = fs.readFileSync(path.join(dir, 'cert.pem'));
    const t = (s = await startTestServer({ tls: { cert: ca, key: fs.readFileSync(path.join(dir, 'key.pem')) }, limits: { maxConnections: 5 } }));
    const { token } = await t.token(['read']);
    let text = '';
    const req = https.get(`${t.url}/event`, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => res.on('data', (d) => (text += d)));
    req.on('error', () => {});
    await waitFor(() => text.includes('server.connected'), { what: 'TLS stream' });
    const flood = Array.from({ length: 20 }, () => stalled(t.server.port, ''));
    await Promise.all(flood.map((f) => connected(f.sock)));
    await waitFor(() => t.server.sockets.stats.shed >= 16, { what: 'stalled TLS sockets shed' });
    t.server.ctx.events.publish('config.updated', { n: 2 });
    await waitFor(() => text.includes('config.updated'), { what: 'event over the kept TLS stream' });
    req.destroy();
  });

  it('per address: one network cannot hold more than its cap, and its own valid request still gets through', async () => {
    const t = await server({ maxConnectionsPerAddress: 10, maxConnections: 1000 });
    const { token } = await t.token(['read']);
    const flood = Array.from({ length: 40 }, () => stalled(t.server.port, HALF));
    await Promise.all(flood.map((f) => connected(f.sock)));
    await waitFor(() => t.server.sockets.stats.shed >= 30, { what: 'shed to the per-address cap' });
    expect(t.server.sockets.stats.open).toBeLessThanOrEqual(10);
    expect((await t.fetch('/auth/whoami', { token })).status).toBe(200);
  });

  it('when every socket is busy, a new one is refused rather than a busy one dropped', async () => {
    const t = await server({ maxConnections: 4 });
    const { token } = await t.token(['read']);
    const ctls = Array.from({ length: 4 }, () => new AbortController());
    const streams = await Promise.all(ctls.map((c) => t.fetch('/event', { token, signal: c.signal })));
    await waitFor(() => t.server.ctx.events.subscriberCount === 4, { what: '4 streams' });
    const late = stalled(t.server.port, HALF);
    await waitFor(() => late.closed, { what: 'newcomer refused' });
    expect(t.server.sockets.stats.refused).toBeGreaterThanOrEqual(1);
    expect(t.server.ctx.events.subscriberCount).toBe(4);
    for (const c of ctls) c.abort();
    for (const r of streams) await r.body?.cancel().catch(() => {});
  });

  it('a request still sending its body is idle: a slow body cannot pin a slot', async () => {
    const t = await server({ maxConnections: 5 });
    const slow = stalled(
      t.server.port,
      'POST /auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"tok',
    );
    await connected(slow.sock);
    await waitFor(() => t.server.sockets.stats.open === 1, { what: 'slow body admitted' });
    for (let i = 0; i < 10; i++) stalled(t.server.port, HALF);
    await waitFor(() => slow.closed, { what: 'slow body shed' });
  });

  it('default total cap is half the descriptor limit, within 16..4096', () => {
    expect(defaultMaxConnections(256)).toBe(128);
    expect(defaultMaxConnections(20)).toBe(16);
    expect(defaultMaxConnections(1_048_576)).toBe(4096);
    expect(defaultMaxConnections(null)).toBe(4096);
  });
});

describe('SocketLimits keys networks separately', () => {
  class FakeSocket extends EventEmitter {
    destroyed = false;
    constructor(
      public remoteAddress: string,
      public remotePort: number,
    ) {
      super();
    }
    destroy() {
      if (!this.destroyed) {
        this.destroyed = true;
        queueMicrotask(() => this.emit('close'));
      }
      return this;
    }
  }
  let port = 1000;
  const setup = (maxConnections: number, maxPerAddress: number) => {
    const fake = new EventEmitter();
    const limits = new SocketLimits({ maxConnections, maxPerAddress, upgradeTimeoutMs: 1000 });
    limits.attach(fake as never);
    const open = (addr: string) => {
      const sock = new FakeSocket(addr, port++);
      fake.emit('connection', sock);
      return sock;
    };
    const request = (sock: FakeSocket) => {
      const res = new EventEmitter();
      fake.emit('request', { socket: sock, headers: {}, complete: true, once: () => {} }, res);
      return () => res.emit('finish');
    };
    return { limits, open, request };
  };

  it('a flooding IPv4 address or IPv6 /64 only pushes out its own idle sockets', () => {
    const { open, limits } = setup(100, 3);
    const victim = open('10.0.0.2');
    const attacker = Array.from({ length: 20 }, () => open('10.0.0.1'));
    const v6 = Array.from({ length: 20 }, (_, i) => open(`2001:db8::${i + 1}`));
    expect(victim.destroyed).toBe(false);
    expect(attacker.filter((a) => !a.destroyed)).toHaveLength(3);
    expect(v6.filter((a) => !a.destroyed)).toHaveLength(3);
    expect(open('2001:db8:0:1::1').destroyed).toBe(false);
    expect(limits.stats.shed).toBe(34);
  });

  it('busy sockets are never shed; an address with only busy sockets at its cap is refused', () => {
    const { open, request, limits } = setup(100, 2);
    const a = open('10.0.0.1');
    const b = open('10.0.0.1');
    const doneA = request(a);
    request(b);
    const c = open('10.0.0.1');
    expect([a.destroyed, b.destroyed, c.destroyed]).toEqual([false, false, true]);
    expect(limits.stats.refused).toBe(1);
    doneA(); // a is idle again: the next newcomer pushes it out
    const d = open('10.0.0.1');
    expect([a.destroyed, d.destroyed]).toEqual([true, false]);
  });

  it('the total cap sheds the oldest idle socket of any network', () => {
    const { open } = setup(3, 100);
    const first = open('10.0.0.1');
    const second = open('10.0.0.2');
    const third = open('10.0.0.3');
    const fourth = open('10.0.0.4');
    expect([first.destroyed, second.destroyed, third.destroyed, fourth.destroyed]).toEqual([true, false, false, false]);
  });
});
