import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';

let t: TempEnv;
beforeEach(() => {
  t = tempEnv();
});
afterEach(() => t.cleanup());

const cli = (...args: string[]) => runCli(args, t.env);

async function createJson(...args: string[]) {
  const r = await cli('auth', 'token', 'create', '--json', ...args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { id: string; name: string; token: string; permissions: string[]; expiresAt: string | null };
}

describe('tether auth token (real processes)', () => {
  it('create prints the token once with its details; the file has only the hash', async () => {
    const r = await cli('auth', 'token', 'create', '--name', 'laptop');
    expect(r.code).toBe(0);
    const token = /tether_[0-9A-Za-z]{28}/.exec(r.stdout)?.[0];
    expect(token).toBeDefined();
    expect(r.stdout).toMatch(/Created token laptop \(tok_[0-9a-z]{10}\)/);
    expect(r.stdout).toMatch(/permissions: read, write, execute/);
    expect(r.stdout).toMatch(/expires: +\S+ \(in 90 days\)/);
    expect(r.stdout).toMatch(/shown only once/);
    const text = fs.readFileSync(t.tokenFile, 'utf8');
    expect(text).not.toContain(token!);
    expect(text).not.toContain(token!.slice(7));
    expect(fs.statSync(t.tokenFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(t.tokenFile)).mode & 0o777).toBe(0o700);
    // Nothing else in the directory holds it either (no temp files left behind).
    for (const f of fs.readdirSync(path.dirname(t.tokenFile))) {
      expect(fs.readFileSync(path.join(path.dirname(t.tokenFile), f), 'utf8')).not.toContain(token!);
    }
  });

  it('--json gives one object for scripts; list shows it without secret or hash', async () => {
    const c = await createJson('--name', 'ci', '--permissions', 'read,write', '--expires', 'never');
    expect(c).toMatchObject({ name: 'ci', permissions: ['read', 'write'], expiresAt: null });
    expect(c.token).toMatch(/^tether_[0-9A-Za-z]{28}$/);
    const human = await cli('auth', 'token', 'list');
    expect(human.code).toBe(0);
    // KIND, FROM and REACH appear only when some token has something there (none does here).
    expect(human.stdout).toMatch(/ID +NAME +PERMISSIONS +CREATED +EXPIRES +LAST USED +STATUS\n/);
    expect(human.stdout).toMatch(new RegExp(`${c.id} +ci +read,write +\\S+ \\S+ +never +never +active`));
    const json = await cli('auth', 'token', 'list', '--json');
    const list = JSON.parse(json.stdout);
    expect(list).toEqual([expect.objectContaining({ id: c.id, name: 'ci', status: 'active', lastUsedAt: null })]);
    expect(json.stdout + human.stdout).not.toContain(c.token);
    expect(json.stdout + human.stdout).not.toMatch(/[0-9a-f]{64}|hash/);
  });

  it('list with no tokens prints a friendly line', async () => {
    const r = await cli('auth', 'token', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`No tokens yet\\. Create one with: ${escapeRe(hintPrefix())} auth token create`));
  });

  it('list shows expired tokens as expired', async () => {
    await createJson('--name', 'short', '--expires', '1m');
    const data = JSON.parse(fs.readFileSync(t.tokenFile, 'utf8'));
    data.tokens[0].expiresAt = '2026-01-01T00:00:00.000Z';
    fs.writeFileSync(t.tokenFile, JSON.stringify(data));
    const r = await cli('auth', 'token', 'list');
    expect(r.stdout).toMatch(/short .* expired/);
  });

  const usage: [string[], RegExp][] = [
    [['--permissions', 'admin'], /unknown permission "admin".*read,write,execute/],
    [['--permissions', ''], /empty.*read,write,execute/],
    [['--expires', '2001-01-01'], /in the past.*never/],
    [['--expires', 'soon'], /cannot understand expiry "soon".*duration/],
    [['--name', 'bad name'], /invalid token name/],
    [['--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, msg] of usage) {
    it(`create ${args.join(' ')} exits 2 explaining what is accepted, and writes nothing`, async () => {
      const r = await cli('auth', 'token', 'create', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).not.toMatch(/tether_/);
      expect(fs.existsSync(t.tokenFile)).toBe(false);
    });
  }

  it('a duplicate name exits 2', async () => {
    await createJson('--name', 'dup');
    const r = await cli('auth', 'token', 'create', '--name', 'dup');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists/);
  });

  it('delete by id or name; unknown or ambiguous deletes nothing and exits 1 naming it', async () => {
    const a = await createJson('--name', 'a');
    await createJson('--name', 'b');
    const before = fs.readFileSync(t.tokenFile);
    const bad = await cli('auth', 'token', 'delete', a.id, 'ghost');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"ghost"/);
    expect(fs.readFileSync(t.tokenFile)).toEqual(before);
    const ok = await cli('auth', 'token', 'delete', a.id, 'b');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Deleted token a .*\n.*Deleted token b/);
    expect(JSON.parse((await cli('auth', 'token', 'list', '--json')).stdout)).toEqual([]);
    const none = await cli('auth', 'token', 'delete');
    expect(none.code).toBe(2);
  });

  it('ambiguity cannot arise: a hand-edited file with a repeated name is refused before any delete', async () => {
    // Names may not start with "tok_" and ids are unique, so an argument matches at most one token
    // in a valid file; a file that breaks this is refused as invalid.
    const a = await createJson('--name', 'a');
    await createJson('--name', 'b');
    const data = JSON.parse(fs.readFileSync(t.tokenFile, 'utf8'));
    data.tokens[1].name = 'a';
    const text = JSON.stringify(data);
    fs.writeFileSync(t.tokenFile, text);
    const r = await cli('auth', 'token', 'delete', a.id);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/repeats name "a"/);
    expect(fs.readFileSync(t.tokenFile, 'utf8')).toBe(text);
  });

  it('a corrupt or future-version file makes every command fail clearly and stay byte-identical', async () => {
    fs.mkdirSync(path.dirname(t.tokenFile), { recursive: true, mode: 0o700 });
    for (const content of ['{ this is not json', '{"version": 99, "tokens": []}']) {
      fs.writeFileSync(t.tokenFile, content, { mode: 0o600 });
      for (const args of [['create'], ['list'], ['list', '--json'], ['delete', 'x']]) {
        const r = await cli('auth', 'token', ...args);
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toContain(t.tokenFile);
        expect(r.stderr).toMatch(/not valid JSON|version 99/);
        expect(fs.readFileSync(t.tokenFile, 'utf8')).toBe(content);
      }
    }
  });

  it('20 creates started at once leave exactly 20 records', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cli('auth', 'token', 'create', '--json', '--name', `p${i}`)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const data = JSON.parse(fs.readFileSync(t.tokenFile, 'utf8'));
    expect(data.tokens).toHaveLength(20);
    expect(new Set(data.tokens.map((x: { name: string }) => x.name)).size).toBe(20);
  });

  it('10 creates racing 10 deletes of other tokens lose nothing they did not delete', async () => {
    const victims = [];
    for (let i = 0; i < 10; i++) victims.push(await createJson('--name', `v${i}`));
    const keep = await createJson('--name', 'keeper');
    const ops = [
      ...Array.from({ length: 10 }, (_, i) => cli('auth', 'token', 'create', '--json', '--name', `n${i}`)),
      ...victims.map((v) => cli('auth', 'token', 'delete', v.id)),
    ];
    const results = await Promise.all(ops);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const names = JSON.parse(fs.readFileSync(t.tokenFile, 'utf8'))
      .tokens.map((x: { name: string }) => x.name)
      .sort();
    expect(names).toEqual(['keeper', ...Array.from({ length: 10 }, (_, i) => `n${i}`)].sort());
    expect(keep.name).toBe('keeper');
  });

  it('--version, and --help on every command', async () => {
    const v = await cli('--version');
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
    for (const args of [[], ['auth'], ['auth', 'token'], ['auth', 'token', 'create'], ['auth', 'token', 'list'], ['auth', 'token', 'delete']]) {
      const r = await cli(...args, '--help');
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Usage: ${escapeRe(hintPrefix())}`));
    }
  });
});
