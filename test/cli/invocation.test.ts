// Hints spell the tether command the way the user can run it here (src/cli/invocation.ts): unit
// cases over temp directory layouts, then the real CLI started each way.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandPrefix, shellWord, type Invocation } from '../../src/cli/invocation.js';
import { BIN, ROOT, type CliResult } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';

let dir: string;
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-inv-')));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(p: string, mode = 0o755): string {
  const f = path.join(dir, p);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, '#!/usr/bin/env node\n');
  fs.chmodSync(f, mode);
  return f;
}
function link(p: string, target: string): string {
  const f = path.join(dir, p);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.symlinkSync(target, f);
  return f;
}

describe('commandPrefix', () => {
  let launcher: string;
  let nodeDir: string;
  beforeEach(() => {
    launcher = file('pkg/bin/tether.js');
    // A PATH directory holding this process's node, so "node" is the right word for it.
    nodeDir = path.dirname(link('nodebin/node', process.execPath));
  });
  const inv = (o: Partial<Invocation>): Invocation => ({
    script: launcher,
    env: { PATH: nodeDir },
    execPath: process.execPath,
    cwd: dir,
    launcher,
    ...o,
  });

  it('a `tether` on PATH that is this launcher (npm link, npm install -g): tether', () => {
    const bin = link('global/bin/tether', '../../pkg/bin/tether.js');
    const env = { PATH: [path.dirname(bin), nodeDir].join(':') };
    expect(commandPrefix(inv({ script: bin, env }))).toBe('tether');
    // Even when this run was started as `node pkg/bin/tether.js`: `tether` works here.
    expect(commandPrefix(inv({ env }))).toBe('tether');
  });

  it('a `tether` on PATH that is another install is not this one: the launcher path instead', () => {
    file('other/bin/tether');
    const env = { PATH: [path.join(dir, 'other/bin'), nodeDir].join(':') };
    expect(commandPrefix(inv({ env }))).toBe('node pkg/bin/tether.js');
  });

  it('npx of the published package (npm cache): npx tether-server', () => {
    const real = file('home/.npm/_npx/0a1b/node_modules/tether-server/bin/tether.js');
    const bin = link('home/.npm/_npx/0a1b/node_modules/.bin/tether', '../tether-server/bin/tether.js');
    const env = { PATH: [path.dirname(bin), nodeDir].join(':'), npm_command: 'exec', npm_lifecycle_event: 'npx', INIT_CWD: dir };
    expect(commandPrefix(inv({ script: bin, env, launcher: real }))).toBe('npx tether-server');
  });

  it('npx of a local checkout or dependency (npm links it from the project): npx tether', () => {
    const bin = link('project/node_modules/.bin/tether', '../../../pkg/bin/tether.js');
    // npm installs a local directory into its cache as a link: the bin is there, the files are not.
    const cached = link('home/.npm/_npx/9f8e/node_modules/.bin/tether', path.join(dir, 'pkg/bin/tether.js'));
    for (const script of [bin, cached]) {
      const env = { PATH: [path.dirname(script), nodeDir].join(':'), npm_command: 'exec', INIT_CWD: dir };
      expect(commandPrefix(inv({ script, env }))).toBe('npx tether');
    }
  });

  it('npm exec of something else that runs tether (by its path, or a global `tether`) is not npx tether', () => {
    const env = { PATH: nodeDir, npm_command: 'exec', npm_lifecycle_event: 'npx', INIT_CWD: dir };
    expect(commandPrefix(inv({ env }))).toBe('node pkg/bin/tether.js');
    const global = link('global/bin/tether', '../../pkg/bin/tether.js');
    expect(commandPrefix(inv({ script: global, env: { ...env, PATH: `${path.dirname(global)}:${nodeDir}` } }))).toBe('tether');
  });

  it('npm start: the launcher relative to where the user typed it (INIT_CWD), else absolute', () => {
    const pkg = path.join(dir, 'pkg');
    const env = { PATH: nodeDir, npm_command: 'start', npm_lifecycle_event: 'start', INIT_CWD: pkg };
    expect(commandPrefix(inv({ cwd: pkg, env }))).toBe('node bin/tether.js');
    fs.mkdirSync(path.join(pkg, 'src'));
    expect(commandPrefix(inv({ cwd: pkg, env: { ...env, INIT_CWD: path.join(pkg, 'src') } }))).toBe(`node ${launcher}`);
  });

  it('node bin/tether.js from elsewhere: the absolute path; node not on PATH: its full path', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-inv-cwd-'));
    try {
      expect(commandPrefix(inv({ cwd: elsewhere }))).toBe(`node ${launcher}`);
    } finally {
      fs.rmSync(elsewhere, { recursive: true });
    }
    expect(commandPrefix(inv({ env: { PATH: '/nonexistent' } }))).toBe(`${shellWord(process.execPath)} pkg/bin/tether.js`);
    // A relative PATH entry is not trusted: what it finds depends on the directory.
    link('rel/tether', '../pkg/bin/tether.js');
    expect(commandPrefix(inv({ env: { PATH: `rel:${nodeDir}` } }))).toBe('node pkg/bin/tether.js');
  });

  it('paths with spaces or quotes are quoted for the shell', () => {
    const odd = file("my dir/it's/bin/tether.js");
    expect(commandPrefix(inv({ script: odd, launcher: odd }))).toBe(`node 'my dir/it'\\''s/bin/tether.js'`);
    expect(shellWord('plain/path-1.js')).toBe('plain/path-1.js');
  });
});

describe('the real CLI prints hints that run the way it was started', () => {
  let t: TempEnv;
  beforeEach(() => {
    t = tempEnv();
    // Whatever npm context runs the tests (npx vitest, npm test) is not the one under test.
    for (const k of Object.keys(t.env)) if (/^npm_|^INIT_CWD$/.test(k)) delete t.env[k];
  });
  afterEach(() => t.cleanup());

  /** `auth status` with no token needs no server: its hint is the one to check. */
  function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }
  const nodeOnPath = () => path.dirname(link('nodebin/node', process.execPath));
  const hint = (r: CliResult) => /log in with `([^`]*)`/.exec(r.stderr)?.[1];

  it('via a `tether` on PATH: tether ...', async () => {
    const bin = link('bin/tether', BIN);
    const env = { ...t.env, PATH: `${path.dirname(bin)}:${nodeOnPath()}:/usr/bin:/bin` };
    const r = await run('tether', ['auth', 'status'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(hint(r)).toBe('tether auth login http://127.0.0.1:4096');
  });

  it('via node bin/tether.js: node bin/tether.js ...', async () => {
    const env = { ...t.env, PATH: `${nodeOnPath()}:/usr/bin:/bin` };
    const r = await run(process.execPath, [path.join(ROOT, 'bin/tether.js'), 'auth', 'status'], env);
    expect(hint(r)).toBe('node bin/tether.js auth login http://127.0.0.1:4096');
  });

  it('via npx from the npm cache: npx tether-server ...', async () => {
    // The package as npx installs it: a copy under _npx, its bin linked in node_modules/.bin.
    const pkg = path.join(dir, 'home/.npm/_npx/0a1b/node_modules/tether-server');
    fs.mkdirSync(pkg, { recursive: true });
    for (const part of ['bin', 'dist', 'package.json']) fs.cpSync(path.join(ROOT, part), path.join(pkg, part), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
    const bin = link('home/.npm/_npx/0a1b/node_modules/.bin/tether', '../tether-server/bin/tether.js');
    const env = { ...t.env, PATH: `${path.dirname(bin)}:${nodeOnPath()}:/usr/bin:/bin`, npm_command: 'exec', npm_lifecycle_event: 'npx', INIT_CWD: dir };
    const r = await run('tether', ['auth', 'status'], env, dir);
    expect(r.code, r.stderr).toBe(1);
    expect(hint(r)).toBe('npx tether-server auth login http://127.0.0.1:4096');
  });
});
