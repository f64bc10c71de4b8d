// `tether attach` driven through a real pseudo-terminal: node-pty runs the CLI as a user would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPty } from 'node-pty';
import { registerPty } from '../../src/server/routes/pty.js';
import { BIN, runCli } from '../helpers/cli.js';
import { runCliTty } from '../helpers/cli-tty.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
let token: string;
beforeAll(async () => {
  s = await startTestServer({ registrars: [registerPty] });
  token = (await s.token()).token;
});
afterAll(() => s.close());

interface Attached {
  p: IPty;
  out: () => string;
  exit: Promise<number>;
}

async function attach(args: string[] = [], env: Record<string, string> = {}): Promise<Attached> {
  const pty = await import('node-pty');
  const p = pty.spawn(process.execPath, [BIN, 'attach', '--url', s.url, ...args], {
    env: { ...(s.env.env as Record<string, string>), TETHER_TOKEN: token, SHELL: '/bin/bash', ...env },
    cols: 100,
    rows: 30,
  });
  let out = '';
  p.onData((d) => (out += d));
  const exit = new Promise<number>((r) => p.onExit((e) => r(e.exitCode)));
  return { p, out: () => out, exit };
}

describe('tether attach', () => {
  it('shows remote output, follows resizes, and exits with the remote exit code', async () => {
    const a = await attach();
    await waitFor(() => /created terminal pty_/.test(a.out()), { what: 'terminal created' });
    a.p.write('echo remote-$((6*7))\r');
    await waitFor(() => a.out().includes('remote-42'), { what: 'remote echo' });
    a.p.resize(123, 45);
    // The resize travels SIGWINCH -> attach -> WebSocket -> remote pty; ask until it has arrived.
    await waitFor(
      async () => {
        a.p.write('stty size\r');
        return waitFor(() => a.out().includes('45 123'), { timeout: 1000 }).catch(() => false);
      },
      { timeout: 10_000, interval: 0, what: 'remote stty size to show 45 123' },
    );
    a.p.write('exit 5\r');
    expect(await a.exit).toBe(5);
  });

  it('Ctrl-] detaches, the terminal keeps running, and a reattach replays it', async () => {
    const a = await attach();
    await waitFor(() => /created terminal (pty_\w+)/.test(a.out()), { what: 'terminal created' });
    const id = /created terminal (pty_\w+)/.exec(a.out())![1];
    a.p.write('export MARK=kept-$((1+1))\r');
    a.p.write('echo set-$MARK\r');
    await waitFor(() => a.out().includes('set-kept-2'), { what: 'marker' });
    a.p.write('\x1d');
    expect(await a.exit).toBe(0);
    expect(a.out()).toMatch(
      new RegExp(`detached from ${id}; it is still running\\. Reattach with: ${escapeRe(hintPrefix())} attach --pty ${id} --url ${escapeRe(s.url)}`),
    );
    const list = await (await s.fetch('/pty', { token })).json();
    expect(list.find((p: { id: string }) => p.id === id).status).toBe('running');

    const b = await attach(['--pty', id]);
    await waitFor(() => b.out().includes('set-kept-2'), { what: 'scrollback replay' });
    b.p.write('echo again-$MARK\r');
    await waitFor(() => b.out().includes('again-kept-2'), { what: 'same shell' });
    b.p.write('exit 0\r');
    expect(await b.exit).toBe(0);
  });

  it('a token without execute gets one clear line; an unknown --pty is a clear error', async () => {
    const { token: rw } = await s.token(['read', 'write']);
    const r = await runCliTty(['attach', '--url', s.url], { ...s.env.env, TETHER_TOKEN: rw });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`this token lacks execute; create one with \`${escapeRe(hintPrefix())} auth token create --permissions read,write,execute\``),
    );
    const u = await runCliTty(['attach', '--url', s.url, '--pty', 'pty_doesnotexist'], { ...s.env.env, TETHER_TOKEN: token });
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/not found/);
    const bad = await runCli(['attach', '--url', s.url, '--pty', '../x'], { ...s.env.env, TETHER_TOKEN: token });
    expect(bad.code).toBe(2);
  });

  it('revoking the token ends the attached session with a clear message', async () => {
    const { token: t, id } = await s.token();
    const a = await attach([], { TETHER_TOKEN: t });
    a.p.write('echo connected-$((1+1))\r');
    await waitFor(() => a.out().includes('connected-2'), { what: 'connected' });
    expect((await runCli(['auth', 'token', 'delete', id], s.env.env)).code).toBe(0);
    expect(await a.exit).toBe(1);
    expect(a.out()).toMatch(/the token was revoked or expired/);
  });
});
