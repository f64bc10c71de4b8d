import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';

let s: TestServer;
let credFile: string;
beforeEach(async () => {
  s = await startTestServer();
  credFile = path.join(s.env.configHome, 'tether', 'credentials.json');
});
afterEach(() => s.close());

const cli = (args: string[], input?: string, extraEnv: Record<string, string> = {}) => runCli(args, { ...s.env.env, ...extraEnv }, { input });

describe('tether auth login / status / logout', () => {
  it('round trip with --token-stdin: saved 0600, status shows who, logout removes it', async () => {
    const { token, id } = await s.token(['read', 'execute'], { name: 'cli-user' });
    const login = await cli(['auth', 'login', s.url, '--token-stdin'], token + '\n');
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(new RegExp(`Logged in to ${s.url} as cli-user \\(${id}\\); permissions: read, execute; never expires`));
    expect(login.stdout).not.toContain(token);
    expect(fs.statSync(credFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(credFile, 'utf8')).servers[s.url].token).toBe(token);

    const st = await cli(['auth', 'status', s.url]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/cli-user/);
    expect(st.stdout).toMatch(/permissions: read, execute/);
    expect(st.stdout).toMatch(/expires: +never/);
    expect(st.stdout).not.toContain(token);
    // TETHER_URL picks the server when no argument is given.
    const viaEnv = await cli(['auth', 'status', '--json'], undefined, { TETHER_URL: s.url });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({ url: s.url, tokenSource: 'credentials', name: 'cli-user' });

    const out = await cli(['auth', 'logout', s.url]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Logged out/);
    expect(JSON.parse(fs.readFileSync(credFile, 'utf8')).servers).toEqual({});
    const after = await cli(['auth', 'status', s.url]);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(new RegExp(`no token for .*${escapeRe(hintPrefix())} auth login`));
    expect((await cli(['auth', 'logout', s.url])).stdout).toMatch(/nothing to do/);
  });

  it('--token and TETHER_TOKEN take precedence over saved credentials', async () => {
    const a = await s.token(['read'], { name: 'saved' });
    const b = await s.token(['read'], { name: 'from-env' });
    const c = await s.token(['read'], { name: 'from-flag' });
    await cli(['auth', 'login', s.url, '--token-stdin'], a.token);
    expect(JSON.parse((await cli(['auth', 'status', s.url, '--json'], undefined, { TETHER_TOKEN: b.token })).stdout).name).toBe('from-env');
    expect(JSON.parse((await cli(['auth', 'status', s.url, '--json', '--token', c.token], undefined, { TETHER_TOKEN: b.token })).stdout).name).toBe(
      'from-flag',
    );
  });

  it('a malformed token is refused locally (exit 2); an unknown one by the server (exit 1); nothing saved', async () => {
    const bad = await cli(['auth', 'login', s.url, '--token-stdin'], 'tether_nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a tether token/);
    const { generateToken } = await import('../../src/auth/token-format.js');
    const unknown = await cli(['auth', 'login', s.url, '--token-stdin'], generateToken());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/revoked or is not known/);
    expect(fs.existsSync(credFile)).toBe(false);
  });

  it('without a terminal or --token-stdin, login explains and exits 2', async () => {
    const r = await cli(['auth', 'login', s.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--token-stdin/);
  });

  it('a revoked token gives one clear 401 line', async () => {
    const { token, id } = await s.token(['read']);
    await cli(['auth', 'login', s.url, '--token-stdin'], token);
    await cli(['auth', 'token', 'delete', id]);
    const r = await cli(['auth', 'status', s.url]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`revoked or is not known to this server \\(${s.url}\\); create one with .*${escapeRe(hintPrefix())} auth login ${s.url}`),
    );
  });

  it('a token lacking a permission gives one clear 403 line naming it', async () => {
    const { token } = await s.token(['write']);
    const r = await cli(['auth', 'status', s.url, '--token', token]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`this token lacks read; create one with \`${escapeRe(hintPrefix())} auth token create --permissions read,write\``));
  });

  it('an unreachable server is one clear line', async () => {
    const { token } = await s.token(['read']);
    const r = await cli(['auth', 'status', 'http://127.0.0.1:1', '--token', token]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot reach tether at http://127.0.0.1:1.*is \`${escapeRe(hintPrefix())} serve\` running`));
  });

  it('bad server URLs exit 2', async () => {
    for (const u of ['ftp://x', 'http://h/path', 'not a url at all']) {
      const r = await cli(['auth', 'logout', u]);
      expect(r.code, u).toBe(2);
    }
  });

  it('the hidden prompt reads the token without echoing it', async () => {
    const { token } = await s.token(['read'], { name: 'typed' });
    const pty = await import('node-pty');
    const p = pty.spawn(process.execPath, [BIN, 'auth', 'login', s.url], { env: s.env.env, cols: 120, rows: 20 });
    let out = '';
    p.onData((d) => (out += d));
    const exit = new Promise<number>((r) => p.onExit((e) => r(e.exitCode)));
    await waitFor(() => out.includes('Token for'), { what: 'prompt' });
    p.write(token + '\r');
    expect(await exit).toBe(0);
    expect(out).toMatch(/Logged in .* as typed/);
    expect(out).not.toContain(token);
  });
});
