// `tether attach` around the terminal itself: no terminal on stdin, a program with arguments, the
// server shutting down under it, and output that stdout cannot take as fast as it comes.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeMessage, forwardOutput, programOf } from '../../src/cli/attach.js';
import { registerPty } from '../../src/server/routes/pty.js';
import { runCli } from '../helpers/cli.js';
import { runCliTty, spawnCliTty } from '../helpers/cli-tty.js';
import { hintPrefix } from '../helpers/hint.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
let token: string;
beforeEach(async () => {
  s = await startTestServer({ registrars: [registerPty] });
  token = (await s.token()).token;
});
afterEach(() => s.close());

const env = () => ({ ...s.env.env, TETHER_TOKEN: token, SHELL: '/bin/bash' });
const ptys = async () => (await (await s.fetch('/pty', { token })).json()) as { id: string; command: string; args: string[] }[];

describe('tether attach without a terminal', () => {
  it('`echo | tether attach` exits 2 at once with one line saying what to use instead; no terminal is created', async () => {
    const r = await runCli(['attach', '--url', s.url], env(), { input: 'echo hi\n', timeout: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'tether: attach needs a terminal, but standard input is not one (a pipe or a file); ' +
        `to run a command without a terminal, use \`${hintPrefix()} run --shell "CMD"\`\n`,
    );
    expect(r.stdout).toBe('');
    expect(await ptys()).toEqual([]);
  });
});

describe('tether attach -- CMD ARGS...', () => {
  it('runs the program with its arguments, unchanged (spaces, quotes, dashes), and exits with its code', async () => {
    const args = ['-c', 'printf "<%s>" "$@"; exit 7', 'zero', 'one two', "it's", '--flag'];
    const r = await runCliTty(['attach', '--url', s.url, '--', 'sh', ...args], env());
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toContain("<one two><it's><--flag>");
    const [p] = await ptys();
    expect(p).toMatchObject({ command: 'sh', args });
  });

  it('the program and --command, or a program with --pty, are usage errors (exit 2) before anything is sent', async () => {
    for (const [args, msg] of [
      [['--command', 'bash', '--', 'sh'], /either with --command or after --, not both/],
      [['--pty', 'pty_0123456789abcdef', '--', 'sh'], /--pty attaches to a terminal that already runs its program/],
    ] as const) {
      const r = await runCliTty(['attach', '--url', s.url, ...args], env());
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    expect(await ptys()).toEqual([]);
  });

  it('programOf: the first operand is the program, the rest its arguments', () => {
    expect(programOf({}, [])).toEqual({});
    expect(programOf({}, ['vim'])).toEqual({ command: 'vim' });
    expect(programOf({}, ['vim', '-u', 'NONE'])).toEqual({ command: 'vim', args: ['-u', 'NONE'] });
    expect(programOf({ command: 'htop' }, [])).toEqual({ command: 'htop' });
    expect(() => programOf({}, ['', 'x'])).toThrow(/empty/);
  });
});

describe('the server shutting down', () => {
  it('attach says the terminal ended with the server, and offers no reattach', async () => {
    const a = await spawnCliTty(['attach', '--url', s.url, '--', 'sh', '-c', 'echo ready; sleep 60'], env());
    await waitFor(() => a.stdout().includes('ready'), { what: 'the remote program to run' });
    const [p] = await ptys();
    await s.server.close();
    const r = await a.done;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`tether: the server shut down, and terminal ${p.id} ended with it\\n$`));
    expect(r.stderr).not.toMatch(/reattach/i);
  });

  it('close codes: shutdown and a vanished terminal offer no reattach; a dropped connection does', () => {
    const again = 'tether attach --pty pty_1';
    expect(closeMessage({ code: 1001, reason: 'server shutting down' }, 'pty_1', again)).toBe('the server shut down, and terminal pty_1 ended with it');
    expect(closeMessage({ code: 4404, reason: 'terminal not found' }, 'pty_1', again)).toBe('terminal pty_1 no longer exists');
    expect(closeMessage({ code: 4401, reason: 'token revoked' }, 'pty_1', again)).toBe('the token was revoked or expired');
    expect(closeMessage({ code: 1006, reason: '' }, 'pty_1', again)).toBe(`connection closed (1006); if the server still runs, reattach with: ${again}`);
  });
});

describe('stdout backpressure', () => {
  it('stops reading the WebSocket while stdout is full and reads on when it drains', async () => {
    const pending: (() => void)[] = [];
    // A stdout that takes one byte before it needs draining, and completes writes only when told.
    const out = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        pending.push(cb);
      },
    });
    const ws = Object.assign(new EventEmitter(), { paused: false, pause: () => (ws.paused = true), resume: () => (ws.paused = false) });
    forwardOutput(ws, out, Buffer.from('a lot of output'));
    expect(ws.paused).toBe(true);
    pending.shift()!();
    await waitFor(() => !ws.paused, { what: 'resume after drain' });
    // While stdout keeps up, reading never pauses.
    const fast = new Writable({ write: (_c, _e, cb) => cb() });
    forwardOutput(ws, fast, Buffer.from('x'));
    expect(ws.paused).toBe(false);
  });

  it('a large output reaches stdout whole and in order through the pause/resume loop', async () => {
    // About 1.3 MB through attach. The program waits for a line typed through attach, so all of
    // its output comes while attach is connected (not only the scrollback's tail).
    const a = await spawnCliTty(['attach', '--url', s.url, '--', 'sh', '-c', 'read go; seq 1 200000; exit 0'], env(), { timeout: 60_000 });
    await waitFor(async () => (await ptys()).length === 1, { what: 'the terminal' });
    await waitFor(() => a.stderr().includes('created terminal'), { what: 'attach to connect' });
    a.write('go\r');
    const r = await a.done;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split(/\r?\n/).filter((l) => /^\d+$/.test(l));
    expect(lines.length).toBe(200_000);
    expect(lines[0]).toBe('1');
    expect(lines.at(-1)).toBe('200000');
  });
});
