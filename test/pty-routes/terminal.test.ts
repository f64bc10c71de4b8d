// Real shells over the WebSocket: input, output, resize, exit, replay, several viewers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bash, connect, ready, startPtyServer, waitFor, type PtyServer } from './helpers.js';
import type { TetherEvent } from '../../src/events.js';

let s: PtyServer;
const events: TetherEvent[] = [];

beforeAll(async () => {
  s = await startPtyServer();
  s.server.ctx.events.subscribe((e) => events.push(e));
});
afterAll(async () => {
  await s?.close();
});

const url = (id: string) => `${s.wsUrl}/pty/${id}/connect`;

describe('terminal over WebSocket', () => {
  it('runs commands in a real shell: echo hello-$((6*7)) prints hello-42', async () => {
    const info = await s.createPty();
    expect(info).toMatchObject({ status: 'running', command: 'bash', cwd: s.project });
    const t = await connect(url(info.id), { token: s.admin });
    await ready(t);
    t.type('echo hello-$((6*7))\r');
    await t.waitText('hello-42');
    // Keystrokes also work as a JSON input message.
    t.control({ type: 'input', data: 'echo json-$((1+2))\r' });
    await t.waitText('json-3');
    t.close();
  });

  it('resizes through the control message and through PUT, and stty size sees it', async () => {
    const info = await s.createPty(bash({ cols: 80, rows: 24 }));
    const t = await connect(url(info.id), { token: s.admin });
    await ready(t);
    t.control({ type: 'resize', cols: 120, rows: 40 });
    t.type('stty size\r');
    await t.waitText(/[\r\n]40 120\r\n/);
    expect((await (await s.fetch(`/pty/${info.id}`, { token: s.admin })).json()).cols).toBe(120);

    const res = await s.fetch(`/pty/${info.id}`, {
      method: 'PUT',
      token: s.admin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cols: 100, rows: 30, title: 'build' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ cols: 100, rows: 30, title: 'build' });
    t.type('stty size\r');
    await t.waitText(/[\r\n]30 100\r\n/);

    // A bad resize is reported on the socket, which stays open.
    t.control({ type: 'resize', cols: 0, rows: 10 });
    await waitFor(() => t.controls.find((m) => m.type === 'error'), { what: 'an error message' });
    expect(t.controls.find((m) => m.type === 'error').message).toMatch(/cols/);
    t.control({ type: 'bogus' });
    t.ws.send('not json');
    await waitFor(() => t.controls.filter((m) => m.type === 'error').length === 3, { what: 'three error messages' });
    t.type('echo still-$((2*2))\r');
    await t.waitText('still-4');
    expect(t.closed).toBeNull();
    t.close();
  });

  it('exit 3 sends the exit message and closes with the exit code', async () => {
    const info = await s.createPty();
    const t = await connect(url(info.id), { token: s.admin });
    await ready(t);
    t.type('exit 3\r');
    const closed = await t.waitClose();
    expect(closed).toEqual({ code: 1000, reason: 'exit:3' });
    expect(t.controls).toContainEqual({ type: 'exit', exitCode: 3, signal: null });
    const after = await (await s.fetch(`/pty/${info.id}`, { token: s.admin })).json();
    expect(after).toMatchObject({ status: 'exited', exitCode: 3, signal: null });

    // Attaching to an exited terminal replays its output, reports the exit and closes.
    const late = await connect(url(info.id), { token: s.admin });
    expect(await late.waitClose()).toEqual({ code: 1000, reason: 'exit:3' });
    expect(late.text()).toContain('exit 3');
  });

  it('a killed terminal closes its sockets with the signal', async () => {
    const info = await s.createPty();
    const t = await connect(url(info.id), { token: s.admin });
    await ready(t);
    expect((await s.fetch(`/pty/${info.id}`, { method: 'DELETE', token: s.admin })).status).toBe(204);
    const closed = await t.waitClose();
    expect(closed.code).toBe(1000);
    expect(closed.reason).toMatch(/^signal:\d+$/);
    expect(t.controls.at(-1)).toMatchObject({ type: 'exit', exitCode: null });
    expect((await s.fetch(`/pty/${info.id}`, { token: s.admin })).status).toBe(404);
  });

  it('replays the scrollback to a client that attaches later', async () => {
    const info = await s.createPty();
    const first = await connect(url(info.id), { token: s.admin });
    await ready(first);
    first.type('echo marker-$((500+55))\r');
    await first.waitText('marker-555');
    first.close();
    await first.waitClose();

    const second = await connect(url(info.id), { token: s.admin });
    await second.waitText('marker-555');
    second.type('echo again-$((1+1))\r');
    await second.waitText('again-2');
    second.close();
  });

  it('two clients see the same output, and input from either reaches the shell', async () => {
    const info = await s.createPty();
    const a = await connect(url(info.id), { token: s.admin });
    const b = await connect(url(info.id), { token: s.admin });
    await ready(a);
    a.type('echo from-a-$((10*10))\r');
    await a.waitText('from-a-100');
    await b.waitText('from-a-100');
    b.type('echo from-b-$((20*10))\r');
    await a.waitText('from-b-200');
    await b.waitText('from-b-200');
    // One leaving does not disturb the other.
    a.close();
    await a.waitClose();
    b.type('echo alone-$((3*3))\r');
    await b.waitText('alone-9');
    b.close();
  });

  it('is binary-safe: raw bytes out, UTF-8 split across writes arrives whole, binary input in', async () => {
    const info = await s.createPty({
      command: 'bash',
      args: ['--norc', '--noprofile', '-c', "printf 'A\\xe2\\x82'; sleep 0.2; printf '\\xacB\\xff\\n'; read -r line; printf 'got:%s\\n' \"$line\""],
    });
    const t = await connect(url(info.id), { token: s.admin });
    await waitFor(() => t.bytes().includes(Buffer.from([0xff])), { what: 'the second write' });
    const out = t.bytes();
    expect(out.includes(Buffer.from([0x41, 0xe2, 0x82, 0xac, 0x42, 0xff]))).toBe(true);
    expect(out.toString('utf8')).toContain('A€B');
    t.ws.send(Buffer.from('żółw\r', 'utf8'), { binary: true });
    await t.waitText('got:żółw');
    await t.waitClose();
  });

  it('publishes lifecycle events, never terminal output', async () => {
    const info = await s.createPty();
    const t = await connect(url(info.id), { token: s.admin });
    await ready(t);
    t.type('echo secret-output-$((7*7))\r');
    await t.waitText('secret-output-49');
    t.type('exit 0\r');
    await t.waitClose();
    await waitFor(() => events.some((e) => e.type === 'pty.exited' && e.properties.id === info.id), { what: 'pty.exited' });
    expect(events.some((e) => e.type === 'pty.created' && (e.properties.info as { id: string }).id === info.id)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('secret-output-49');
  });
});
