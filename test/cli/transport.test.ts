// Where the CLI sends the token: never along a redirect, never over plain HTTP to another host
// unless the user opted in. `http://0.0.0.0:PORT` stands for "another host": the policy counts it as
// not loopback, while Linux delivers it to 127.0.0.1, so no test traffic leaves this machine.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { runCli } from '../helpers/cli.js';
import { runCliTty } from '../helpers/cli-tty.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import {
  hasRawControl,
  pty,
  redirectingRoutes,
  session,
  startHostileServer,
  whoami,
  type HostileOptions,
  type HostileServer,
} from '../helpers/hostile-server.js';

let t: TempEnv;
const servers: HostileServer[] = [];
const token = generateToken();
beforeEach(() => {
  t = tempEnv();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  t.cleanup();
});

async function server(opts: HostileOptions = {}): Promise<HostileServer> {
  const s = await startHostileServer(opts);
  servers.push(s);
  return s;
}

// `attach` needs a terminal on stdin (it refuses a pipe); the others read stdin as a pipe.
const cli = (args: string[], input?: string, env: Record<string, string> = { TETHER_TOKEN: token }) =>
  args[0] === 'attach' ? runCliTty(args, { ...t.env, ...env }) : runCli(args, { ...t.env, ...env }, { input });
const credFile = () => path.join(t.configHome, 'tether', 'credentials.json');

describe('client requests never follow redirects', () => {
  /** Each client command against a server that redirects its first request to `trap`. */
  const commands = (url: string): [string, string[], string?][] => [
    ['auth login', ['auth', 'login', url, '--token-stdin'], token],
    ['auth status', ['auth', 'status', url]],
    ['run (POST /session)', ['run', '--url', url, 'a prompt']],
    ['run --session (POST message)', ['run', '--url', url, '--session', 'ses_x', 'a prompt']],
    ['run --shell (POST shell)', ['run', '--url', url, '--session', 'ses_x', '--shell', 'echo secret']],
    ['attach (POST /pty)', ['attach', '--url', url]],
    ['attach --pty (GET /pty/ID)', ['attach', '--url', url, '--pty', 'pty_abc']],
  ];

  for (const status of [301, 302, 303, 307, 308]) {
    it(`${status}: every command fails with one line naming the Location; the other port receives nothing`, async () => {
      const trap = await server();
      const location = `${trap.url}/elsewhere`;
      const s = await server(redirectingRoutes(status, location));
      // 307/308 on all commands; the other codes on the POSTs of the issue (prompt and shell command).
      const list = commands(s.url).filter(([name]) => status === 307 || status === 308 || name.startsWith('run'));
      for (const [name, args, input] of list) {
        const r = await cli(args, input);
        expect(r.code, name).toBe(1);
        expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
        expect(r.stderr, name).toContain(`answered ${status}, redirecting to ${location}; tether clients never follow redirects`);
        expect(hasRawControl(r.stderr)).toBe(false);
        expect(r.stdout, name).not.toMatch(/Logged in|ses_/);
      }
      expect(s.requests.length).toBeGreaterThanOrEqual(list.length);
      expect(trap.connections).toBe(0);
      expect(fs.existsSync(credFile())).toBe(false);
    });
  }

  it('a WebSocket handshake answered with a redirect is refused the same way', async () => {
    const trap = await server();
    const location = `${trap.url.replace('http', 'ws')}/pty/pty_abc/connect`;
    const s = await server({ routes: { 'GET /pty/pty_abc': () => ({ body: pty({ id: 'pty_abc' }) }) }, upgrade: { status: 307, headers: { location } } });
    const r = await cli(['attach', '--url', s.url, '--pty', 'pty_abc']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`answered 307, redirecting to ${location}`);
    expect(s.requests.map((q) => q.method)).toEqual(['GET', 'UPGRADE']);
    expect(trap.connections).toBe(0);
  });

  it('a redirect without a Location, and a hostile Location, are one visible line', async () => {
    const s = await server({ routes: { 'GET /auth/whoami': () => ({ status: 307, body: '' }) } });
    const r = await cli(['auth', 'status', s.url]);
    expect(r.stderr).toMatch(/answered 307, redirecting with no Location/);
    // Header values carry obs-text (bytes 0x80-0xff): C1 controls reach the client as U+0080-U+009F.
    const s2 = await server({ routes: { 'GET /auth/whoami': () => ({ status: 302, headers: { location: `http://x/${'\x9b'}2J${'a'.repeat(500)}` } }) } });
    const r2 = await cli(['auth', 'status', s2.url]);
    expect(r2.code).toBe(1);
    expect(hasRawControl(r2.stderr)).toBe(false);
    expect(r2.stderr).toContain('http://x/\\x9b2J');
    expect(r2.stderr.length).toBeLessThan(600);
  });
});

describe('plain HTTP to a host other than this machine', () => {
  const routes = (): HostileOptions => ({
    routes: {
      'GET /auth/whoami': () => ({ body: whoami({ id: 'tok_0123456789', name: 'remote' }) }),
      'POST /session': () => ({ body: session() }),
      'POST /pty': () => ({ body: pty() }),
    },
  });

  it('is refused (exit 2) before anything is sent, by every client command, naming --allow-http', async () => {
    const s = await server(routes());
    const url = `http://0.0.0.0:${s.port}`;
    for (const [args, input] of [
      [['auth', 'status', url]],
      [['auth', 'login', url, '--token-stdin'], token],
      [['run', '--url', url, 'hello']],
      [['run', '--url', url, '--shell', 'true']],
      [['attach', '--url', url]],
    ] as [string[], string?][]) {
      const r = await cli(args, input, { TETHER_TOKEN: token, TETHER_URL: '' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`refusing to send the token over plain HTTP to ${url.replace(/\./g, '\\.')}: .*pass --allow-http`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // Also through TETHER_URL.
    const viaEnv = await cli(['auth', 'status'], undefined, { TETHER_TOKEN: token, TETHER_URL: url });
    expect(viaEnv.code).toBe(2);
    expect(s.connections).toBe(0);
    expect(fs.existsSync(credFile())).toBe(false);
  });

  it('--allow-http lets a command through; loopback and https need no flag', async () => {
    const s = await server(routes());
    const url = `http://0.0.0.0:${s.port}`;
    const r = await cli(['auth', 'status', url, '--allow-http']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/remote/);
    expect(r.stdout).toMatch(/transport: +plain HTTP/);
    expect(s.requests.at(-1)!.headers.authorization).toBe(`Bearer ${token}`);
    const loop = await cli(['auth', 'status', s.url]);
    expect(loop.code, loop.stderr).toBe(0);
    expect(loop.stdout).not.toMatch(/transport/);
  });

  it('auth login --allow-http warns, saves the choice for that server only; logging in again without it undoes it', async () => {
    const s = await server(routes());
    const url = `http://0.0.0.0:${s.port}`;
    const login = await cli(['auth', 'login', url, '--token-stdin', '--allow-http'], token, {});
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/^warning: --allow-http: the token for http:\/\/0\.0\.0\.0:\d+ travels unencrypted/);
    expect(JSON.parse(fs.readFileSync(credFile(), 'utf8')).servers[url]).toMatchObject({ token, allowHttp: true });
    // Later commands for that server need no flag, whichever token they use...
    expect((await cli(['auth', 'status', url], undefined, {})).code).toBe(0);
    expect((await cli(['auth', 'status', url])).code).toBe(0);
    const run = await cli(['run', '--url', url, '--shell', 'true'], undefined, {});
    expect(run.stderr).not.toMatch(/plain HTTP/);
    // ...another server on another port does not inherit it...
    const other = await server(routes());
    expect((await cli(['auth', 'status', `http://0.0.0.0:${other.port}`])).code).toBe(2);
    expect(other.connections).toBe(0);
    // ...and logging in to a loopback URL never saves it or warns.
    const local = await cli(['auth', 'login', s.url, '--token-stdin', '--allow-http'], token, {});
    expect(local.code).toBe(0);
    expect(local.stderr).toBe('');
    expect(JSON.parse(fs.readFileSync(credFile(), 'utf8')).servers[s.url].allowHttp).toBeUndefined();
    // A new login without the flag is refused, and the saved opt-in stays until replaced.
    const again = await cli(['auth', 'login', url, '--token-stdin'], token, {});
    expect(again.code).toBe(2);
    expect((await cli(['auth', 'logout', url], undefined, {})).code).toBe(0);
    expect((await cli(['auth', 'status', url])).code).toBe(2);
  });

  it('a malformed token with --allow-http: warned, refused locally, nothing sent or saved', async () => {
    const s = await server(routes());
    const r = await cli(['auth', 'login', `http://0.0.0.0:${s.port}`, '--token-stdin', '--allow-http'], 'tether_nope', {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/warning: --allow-http/);
    expect(s.connections).toBe(0);
    expect(fs.existsSync(credFile())).toBe(false);
  });
});
