// `tether auth token create --scope DIR` and how `auth token list` shows scopes (real processes).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/token-admin.js';
import { runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { startTestServer } from '../helpers/server.js';

let t: TempEnv;
let dirs: { app: string; lib: string; linkToLib: string; file: string; loop: string };
beforeEach(() => {
  t = tempEnv();
  const base = fs.realpathSync(t.root);
  dirs = {
    app: path.join(base, 'proj', 'app'),
    lib: path.join(base, 'proj', 'lib'),
    linkToLib: path.join(base, 'proj', 'lib-link'),
    file: path.join(base, 'proj', 'notes.txt'),
    loop: path.join(base, 'proj', 'loop'),
  };
  fs.mkdirSync(dirs.app, { recursive: true });
  fs.mkdirSync(dirs.lib);
  fs.symlinkSync(dirs.lib, dirs.linkToLib);
  fs.writeFileSync(dirs.file, 'x');
  fs.symlinkSync(dirs.loop, dirs.loop);
});
afterEach(() => t.cleanup());

const cli = (...args: string[]) => runCli(args, t.env);
const stored = () => (fs.existsSync(t.tokenFile) ? fs.readFileSync(t.tokenFile, 'utf8') : null);

describe('auth token create --scope', () => {
  it('stores each directory as its absolute real path: symlinks resolved, relative paths from the cwd, repeats once', async () => {
    const relative = path.relative(process.cwd(), dirs.app);
    const r = await cli(
      'auth',
      'token',
      'create',
      '--json',
      '--name',
      'colleague',
      '--scope',
      relative,
      '--scope',
      dirs.linkToLib,
      '--scope',
      `${dirs.app}/./`,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.scopes).toEqual([dirs.app, dirs.lib]);
    const file = JSON.parse(stored()!);
    expect(file.version).toBe(2);
    expect(file.tokens[0].scopes).toEqual([dirs.app, dirs.lib]);
  });

  it('the human output names the scopes; a token without --scope has none', async () => {
    const r = await cli('auth', 'token', 'create', '--name', 'scoped', '--scope', dirs.app);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`scopes: +${dirs.app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
    const plain = await cli('auth', 'token', 'create', '--json', '--name', 'plain');
    expect(JSON.parse(plain.stdout)).not.toHaveProperty('scopes');
  });

  const refusals: [string, () => string, RegExp][] = [
    ['a directory that does not exist', () => path.join(dirs.app, 'nope'), /--scope ".*nope": .*nope does not exist; give an existing directory/],
    ['a regular file', () => dirs.file, /--scope ".*notes\.txt": .*notes\.txt is not a directory/],
    ['a path through a file', () => path.join(dirs.file, 'x'), /--scope ".*notes\.txt\/x": a part of .* is not a directory/],
    ['a symlink loop', () => dirs.loop, /--scope ".*loop": .*loop is a symlink loop/],
    ['an empty argument', () => '', /--scope needs a directory/],
  ];
  for (const [what, arg, message] of refusals) {
    it(`refuses ${what} by name, exit 2, and writes nothing (even after a good --scope)`, async () => {
      const r = await cli('auth', 'token', 'create', '--name', 'bad', '--scope', dirs.app, '--scope', arg());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toMatch(/tether_/);
      expect(stored()).toBeNull();
    });
  }

  it('refuses more than 16 scopes', async () => {
    const args: string[] = [];
    for (let i = 0; i < 17; i++) {
      const d = path.join(dirs.app, `d${i}`);
      fs.mkdirSync(d);
      args.push('--scope', d);
    }
    const r = await cli('auth', 'token', 'create', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/17 directories; a token has at most 16 scopes/);
    expect(stored()).toBeNull();
  });
});

describe('auth token list shows the scopes', () => {
  it('in the table (REACH: "all" for an unscoped token) and in --json', async () => {
    await cli('auth', 'token', 'create', '--name', 'everything');
    await cli('auth', 'token', 'create', '--name', 'two', '--scope', dirs.app, '--scope', dirs.lib);
    const human = await runCli(['auth', 'token', 'list'], { ...t.env, COLUMNS: '300' });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/STATUS +REACH/);
    expect(human.stdout).toMatch(/everything .* active +all\n/);
    expect(human.stdout).toContain(`active  ${dirs.app}, ${dirs.lib}`);
    const list = JSON.parse((await cli('auth', 'token', 'list', '--json')).stdout);
    expect(list.find((x: { name: string }) => x.name === 'two').scopes).toEqual([dirs.app, dirs.lib]);
    expect(list.find((x: { name: string }) => x.name === 'everything')).not.toHaveProperty('scopes');
  });

  it('shows control characters in a scope path as text, never raw', async () => {
    const odd = path.join(dirs.app, 'evil\x1b]0;pwned\x07dir');
    fs.mkdirSync(odd);
    expect((await cli('auth', 'token', 'create', '--name', 'odd', '--scope', odd)).code).toBe(0);
    const human = await cli('auth', 'token', 'list');
    expect(human.stdout).not.toContain('\x1b');
    expect(human.stdout).toContain('evil^[]0;pwned^Gdir');
    const json = await cli('auth', 'token', 'list', '--json');
    expect(JSON.parse(json.stdout)[0].scopes).toEqual([odd]);
  });
});

describe('auth status shows the scopes', () => {
  it('of a scoped token (and none for an unscoped one), in the text and in --json', async () => {
    const s = await startTestServer();
    try {
      const app = path.join(s.project, 'app');
      fs.mkdirSync(app);
      const scoped = (await createToken({ name: 'colleague', permissions: ['read'], expiresAt: null, scopes: [app] }, s.env.tokenFile)).token;
      const plain = (await s.token(['read'])).token;
      const status = (token: string, ...more: string[]) => runCli(['auth', 'status', s.url, '--token', token, ...more], s.env.env);
      const text = await status(scoped);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain(`  scopes:      ${app}\n`);
      expect(JSON.parse((await status(scoped, '--json')).stdout).scopes).toEqual([app]);
      expect((await status(plain)).stdout).not.toContain('scopes');
      expect(JSON.parse((await status(plain, '--json')).stdout)).not.toHaveProperty('scopes');
    } finally {
      await s.close();
    }
  });
});
