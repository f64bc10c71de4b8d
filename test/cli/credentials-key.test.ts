// Saved credentials are keyed by the server, not by how its URL was typed: localhost, 127.0.0.1 and
// [::1] (same scheme and port) are this machine's one server, default ports are the same server.
// Files from before are read as they are and rewritten normalised, losing nothing.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialKey, loadCredential, removeCredential, saveCredential, type SavedCredential } from '../../src/client/saved-credentials.js';
import { runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const cred = (token: string, savedAt = '2026-01-01T00:00:00.000Z'): SavedCredential => ({ token, tokenId: null, name: token, savedAt });

describe('credentialKey', () => {
  it('this machine under any of its names, and default ports, are one key', () => {
    for (const u of [
      'http://localhost:4096',
      'http://127.0.0.1:4096',
      'http://[::1]:4096',
      'HTTP://LocalHost:4096/',
      'localhost:4096',
      'http://[::ffff:127.0.0.1]:4096',
    ]) {
      expect(credentialKey(u), u).toBe('http://127.0.0.1:4096');
    }
    expect(credentialKey('https://localhost')).toBe('https://127.0.0.1');
    expect(credentialKey('https://[::1]:443')).toBe('https://127.0.0.1');
    expect(credentialKey('http://example.com:80')).toBe('http://example.com');
    expect(credentialKey('https://Example.COM:443/')).toBe('https://example.com');
  });

  it('a different scheme, port or host is a different server', () => {
    const keys = ['http://127.0.0.1:4096', 'https://127.0.0.1:4096', 'http://127.0.0.1:4097', 'http://127.0.0.2:4096', 'http://192.0.2.1:4096'].map(
      credentialKey,
    );
    expect(new Set(keys).size).toBe(5);
  });
});

describe('the credentials file', () => {
  let t: TempEnv;
  let file: string;
  beforeEach(() => {
    t = tempEnv();
    file = path.join(t.configHome, 'tether', 'credentials.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
  });
  afterEach(() => t.cleanup());
  const write = (servers: Record<string, SavedCredential>) => fs.writeFileSync(file, JSON.stringify({ version: 1, servers }), { mode: 0o600 });
  const servers = () => JSON.parse(fs.readFileSync(file, 'utf8')).servers as Record<string, SavedCredential>;

  it('saved as localhost, found as 127.0.0.1 and [::1]; logout under any name removes it', async () => {
    await saveCredential('http://localhost:4096', cred('a'), file);
    expect(Object.keys(servers())).toEqual(['http://127.0.0.1:4096']);
    expect((await loadCredential('http://127.0.0.1:4096', file))?.token).toBe('a');
    expect((await loadCredential('http://[::1]:4096', file))?.token).toBe('a');
    expect(await loadCredential('https://127.0.0.1:4096', file)).toBeNull();
    expect(await removeCredential('http://[::1]:4096', file)).toBe(true);
    expect(servers()).toEqual({});
  });

  it('an old file keyed by the exact URL is read as it is, without a write', async () => {
    write({ 'http://localhost:4096': cred('old'), 'https://example.com:443': cred('remote') });
    const before = fs.readFileSync(file, 'utf8');
    expect((await loadCredential('http://127.0.0.1:4096', file))?.token).toBe('old');
    expect((await loadCredential('https://example.com', file))?.token).toBe('remote');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('the next write stores old keys normalised, keeps every server, and the newest of one server', async () => {
    write({
      'http://localhost:4096': cred('older', '2026-01-01T00:00:00.000Z'),
      'http://[::1]:4096': cred('newer', '2026-02-01T00:00:00.000Z'),
      'https://example.com:443': cred('remote'),
      'not a url': cred('kept as is'),
    });
    await saveCredential('http://127.0.0.1:5000', cred('other'), file);
    expect(servers()).toEqual({
      'http://127.0.0.1:4096': cred('newer', '2026-02-01T00:00:00.000Z'),
      'https://example.com': cred('remote'),
      'not a url': cred('kept as is'),
      'http://127.0.0.1:5000': cred('other'),
    });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a login replaces the entry under whichever old name it had', async () => {
    write({ 'http://localhost:4096': cred('old') });
    await saveCredential('http://127.0.0.1:4096', cred('new', '2026-03-01T00:00:00.000Z'), file);
    expect(servers()).toEqual({ 'http://127.0.0.1:4096': cred('new', '2026-03-01T00:00:00.000Z') });
  });
});

describe('the CLI', () => {
  let s: TestServer;
  beforeEach(async () => {
    s = await startTestServer();
  });
  afterEach(() => s.close());
  const cli = (args: string[], input?: string, env: Record<string, string> = {}) => runCli(args, { ...s.env.env, ...env }, { input });

  it('log in at localhost, then every command at 127.0.0.1 or [::1] uses that token', async () => {
    const { token } = await s.token(['read'], { name: 'by-name' });
    const port = new URL(s.url).port;
    const login = await cli(['auth', 'login', `http://localhost:${port}`, '--token-stdin'], token);
    expect(login.code, login.stderr).toBe(0);
    const st = await cli(['auth', 'status', '--json', '--url', `http://127.0.0.1:${port}`]);
    expect(st.code, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toMatchObject({ name: 'by-name', tokenSource: 'credentials' });
    // [::1] finds the same entry (the server itself listens on 127.0.0.1 only: the lookup is what matters).
    const v6 = await cli(['auth', 'status', `http://[::1]:${port}`]);
    expect(v6.stderr).not.toMatch(/no token for/);
  });

  it('auth login with no URL goes to http://127.0.0.1:4096, like every client command; --url and TETHER_URL pick another', async () => {
    const { token } = await s.token(['read'], { name: 'default-url' });
    // Port 4096 may or may not have a server on this machine: either way the login names that URL.
    const r = await cli(['auth', 'login', '--token-stdin'], token, { TETHER_URL: '' });
    expect(r.stdout + r.stderr).toContain('http://127.0.0.1:4096');
    expect(r.stderr).not.toMatch(/missing required argument/);
    const viaEnv = await cli(['auth', 'login', '--token-stdin'], token, { TETHER_URL: s.url });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.stdout).toContain(`Logged in to ${s.url} as default-url`);
    const out = await cli(['auth', 'logout', '--url', s.url]);
    expect(out.stdout).toContain(`Logged out of ${s.url}`);
  });
});
