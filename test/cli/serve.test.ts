// `tether serve` as a real process.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli, spawnCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';

let t: TempEnv;
const children: ChildProcess[] = [];
beforeEach(() => {
  t = tempEnv();
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  t.cleanup();
});

interface Served {
  child: ChildProcess;
  url: string;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

async function serve(args: string[] = []): Promise<Served> {
  const child = spawnCli(['serve', '--port', '0', '--project', t.root, ...args], t.env);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  // 'close', not 'exit': the exit can be seen before the last bytes of stderr have been read.
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 15_000, what: `serve to listen (stderr: ${err})` });
  return { child, url, out: () => out, err: () => err, exited };
}

async function token(perms = 'all') {
  const r = await runCli(['auth', 'token', 'create', '--json', '--permissions', perms], t.env);
  return JSON.parse(r.stdout).token as string;
}

describe('tether serve', () => {
  it('prints its URL and auth status; SIGTERM shuts it down cleanly', async () => {
    const tok = await token();
    const s = await serve();
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.out()).toMatch(/\(auth: on\)/);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    expect((await fetch(`${s.url}/auth/whoami`)).status).toBe(401);
    expect((await fetch(`${s.url}/auth/whoami`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.err()).toMatch(/SIGTERM received, shutting down/);
  });

  it("warns once when the project contains tether's own directories, and not otherwise", async () => {
    await token();
    const home = await serve(); // --project is the temp HOME, which holds the XDG config and data dirs
    home.child.kill('SIGTERM');
    expect(await home.exited).toBe(0);
    expect(home.err().match(/the project contains tether's own files/g)).toHaveLength(1);
    expect(home.err()).toContain(path.join(fs.realpathSync(t.configHome), 'tether'));
    expect(home.err()).toMatch(/403 path_reserved/);

    const project = path.join(t.root, 'project');
    fs.mkdirSync(project);
    const plain = await serve(['--project', project]);
    plain.child.kill('SIGTERM');
    expect(await plain.exited).toBe(0);
    // Read after the exit: the project line can arrive in a later chunk than the listening line.
    expect(plain.out()).toContain(`project: ${fs.realpathSync(project)}`);
    expect(plain.err()).not.toMatch(/tether's own files/);
  });

  it('with no token and no terminal, prints the command to create one', async () => {
    const s = await serve();
    expect(s.out()).toMatch(new RegExp(`No active token .*\\n\\s+${escapeRe(hintPrefix())} auth token create --name NAME`));
    expect((await fetch(`${s.url}/auth/whoami`)).status).toBe(401);
  });

  it('on a terminal with no active token, creates first-run and prints it once with a curl line', async () => {
    const pty = await import('node-pty');
    const p = pty.spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', t.root], { env: t.env, cols: 200, rows: 50 });
    let out = '';
    p.onData((d) => (out += d));
    try {
      // eslint-disable-next-line no-control-regex -- on a terminal the URL comes wrapped in ESC[...m colour codes
      const url = await waitFor(() => /listening on (?:\x1b\[[0-9;]*m)*(http\S+?)(?:\x1b|\s)/.exec(out)?.[1], { timeout: 15_000, what: 'serve on a pty' });
      const tok = /(tether_[0-9A-Za-z]{28})/.exec(out)![1];
      expect(out).toMatch(/first-run/);
      expect(out).toMatch(new RegExp(`curl -H "Authorization: Bearer ${tok}" http://127.0.0.1:\\d+/auth/whoami`));
      expect(out).toMatch(/shown only once/);
      const who = await (await fetch(`${url}/auth/whoami`, { headers: { authorization: `Bearer ${tok}` } })).json();
      expect(who).toMatchObject({ name: 'first-run', permissions: ['read', 'write', 'execute'] });
      expect(fs.readFileSync(t.tokenFile, 'utf8')).not.toContain(tok);
    } finally {
      p.kill('SIGKILL');
    }
  });

  it('--no-auth on loopback warns loudly and serves without a token', async () => {
    const s = await serve(['--no-auth']);
    expect(s.out()).toMatch(/\(auth: OFF\)/);
    // Two pipes: stderr may be read after stdout even though it was written first.
    await waitFor(() => /WARNING: authentication is OFF/.test(s.err()), { what: 'the --no-auth warning' });
    expect((await fetch(`${s.url}/auth/whoami`)).status).toBe(200);
  });

  it('--no-auth --hostname localhost works: localhost resolves to loopback, and that is what is bound', async () => {
    const s = await serve(['--no-auth', '--hostname', 'localhost']);
    expect(s.out()).toMatch(/\(auth: OFF\)/);
    expect((await fetch(`${s.url}/auth/whoami`)).status).toBe(200);
  });

  it('--no-auth with a host name is decided by what the name resolves to, not by the name', async () => {
    // Whatever this machine's resolver says: allowed exactly when every address is loopback.
    for (const name of [os.hostname(), 'tether-test.localhost', 'nowhere.invalid']) {
      const addrs = await dns.lookup(name, { all: true }).then(
        (a) => a.map((x) => x.address),
        () => [] as string[],
      );
      const loopbackOnly = addrs.length > 0 && addrs.every((a) => a.startsWith('127.') || a === '::1');
      if (loopbackOnly) {
        const s = await serve(['--no-auth', '--hostname', name]);
        expect(s.out(), name).toMatch(/\(auth: OFF\)/);
        s.child.kill('SIGKILL');
      } else {
        const r = await runCli(['serve', '--no-auth', '--hostname', name, '--port', '0'], t.env);
        expect(r.code, name).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`--no-auth is refused with --hostname ${name.replace(/\./g, '\\.')}`));
      }
    }
  });

  it('--no-auth on a non-loopback host exits 2 explaining why', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
      const r = await runCli(['serve', '--no-auth', '--hostname', host, '--port', '0'], t.env);
      expect(r.code, host).toBe(2);
      expect(r.stderr).toMatch(/--no-auth is refused with --hostname/);
    }
  });

  it('an unreadable or corrupt token file at start: exit 1 naming the file; the file is untouched', async () => {
    fs.mkdirSync(path.dirname(t.tokenFile), { recursive: true });
    fs.writeFileSync(t.tokenFile, '{"version": 7, "tokens": []}');
    const r = await runCli(['serve', '--port', '0'], t.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(t.tokenFile);
    expect(r.stderr).toMatch(/version 7/);
    expect(fs.readFileSync(t.tokenFile, 'utf8')).toBe('{"version": 7, "tokens": []}');
  });

  const usage: [string[], RegExp][] = [
    [['--port', 'abc'], /--port must be a whole number/],
    [['--port', '70000'], /--port must be a whole number/],
    [['--cors', '*'], /--cors needs an origin/],
    [['--cors', 'https://a.example/path'], /exact origin/],
    [['--tls-cert', 'x.pem'], /--tls-cert and --tls-key go together/],
    [['--project', '/nonexistent/dir'], /--project .* is not an existing directory/],
  ];
  for (const [args, msg] of usage) {
    it(`serve ${args.join(' ')} exits 2`, async () => {
      const r = await runCli(['serve', ...args], t.env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
    });
  }

  it('a port in use is a clear error, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['serve', '--port', String(port)], t.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
    }
  });

  it('serves HTTPS with --tls-cert/--tls-key', async () => {
    const tok = await token('read');
    const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures/tls');
    const s = await serve(['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem')]);
    expect(s.url).toMatch(/^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(`${s.url}/auth/whoami`, { ca: fs.readFileSync(path.join(dir, 'cert.pem')), headers: { authorization: `Bearer ${tok}` } }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    expect(JSON.parse(body).permissions).toEqual(['read']);
  });
});
