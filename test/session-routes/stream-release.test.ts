// A caller's streamed run (`Accept: text/event-stream`) holds a bus subscriber, a heartbeat and a
// slot in the live-connection table. They are released when the socket closes for any reason,
// also when Hono's abort callback never fires (a response queued behind another on a pipelined
// connection is never attached to the socket, so only the socket's own 'close' says it is gone).
// The run itself goes on without its audience.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSession, startHarness, waitFor, type Harness } from './helpers.js';

let h: Harness;
let rwx: { token: string; id: string };

beforeEach(async () => {
  h = await startHarness({ shell: { killGraceMs: 500 } });
  rwx = await h.token();
});

afterEach(async () => {
  await h.close();
});

const live = () => h.server.ctx.connections.size;

function post(pathname: string, body: unknown): string {
  const json = JSON.stringify(body);
  return (
    `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rwx.token}\r\n` +
    `Accept: text/event-stream\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`
  );
}

describe('streamed runs release their stream when the socket closes', () => {
  it('a stream queued behind another on a pipelined connection is released when the socket closes; both runs go on', async () => {
    const a = await createSession(h, rwx.token);
    const b = await createSession(h, rwx.token);
    const wait = (name: string) => ({ command: `while [ ! -f ${name} ]; do sleep 0.02; done; echo ${name}` });
    const before = live();
    const sock = net.connect(h.server.port, '127.0.0.1');
    let text = '';
    sock.on('data', (d) => (text += d.toString('latin1')));
    sock.on('error', () => {});
    // Two requests in one write: the second response waits behind the first, which never ends.
    sock.write(post(`/session/${a.id}/shell`, wait('go-a')) + post(`/session/${b.id}/shell`, wait('go-b')));
    const busy = async (id: string) => (await h.call('GET', `/session/${id}`, { token: rwx.token })).body.busy === true;
    await waitFor(async () => (await busy(a.id)) && (await busy(b.id)), { what: 'both runs to start' });
    await waitFor(() => text.includes('event: message.created'), { what: 'the first stream' });
    // Two runs (each tied to its token) and two streams.
    await waitFor(() => live() === before + 4, { what: 'two runs and two streams registered' });

    sock.destroy();
    await waitFor(() => live() === before + 2, { timeout: 3000, what: 'both streams released on close, the runs still registered' });
    expect(await busy(a.id)).toBe(true);
    expect(await busy(b.id)).toBe(true);

    fs.writeFileSync(path.join(h.project, 'go-a'), '');
    fs.writeFileSync(path.join(h.project, 'go-b'), '');
    await waitFor(async () => !(await busy(a.id)) && !(await busy(b.id)), { what: 'both runs to finish' });
    await waitFor(() => live() === before, { what: 'the runs to unregister' });
    const last = async (id: string) => (await h.call('GET', `/session/${id}/message`, { token: rwx.token })).body.messages.at(-1);
    expect(await last(a.id)).toMatchObject({ status: 'completed' });
    expect(await last(b.id)).toMatchObject({ status: 'completed' });
  });
});
