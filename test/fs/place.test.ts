// The shared file confinement with a Place (a scoped token's directories): reads, listings, writes,
// the walk, directory arguments (a terminal's cwd, a session's directory) and the agent's tools.
// The file routes added later (PUT /file/content, DELETE /file) go through the same `locate` and
// `verifyHandle`, so these hold for them too.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToolHandlers } from '../../src/agent/tools.js';
import { placeFor } from '../../src/auth/scope.js';
import { locate, resolveInside, type Root } from '../../src/fs/confine.js';
import { listDirectory, openFile, writeFileConfined } from '../../src/fs/io.js';
import { reservedPaths } from '../../src/fs/reserved.js';
import { walk } from '../../src/fs/walk.js';
import type { RunCommand } from '../../src/agent/command.js';

let tmp: string;
let project: string;
const p = (rel: string) => path.join(project, rel);

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-place-')));
  project = path.join(tmp, 'project');
  for (const d of ['app/sub', 'app2', 'secret', 'lib']) fs.mkdirSync(p(d), { recursive: true });
  fs.writeFileSync(p('app/a.txt'), 'a');
  fs.writeFileSync(p('app/sub/s.txt'), 's');
  fs.writeFileSync(p('app2/b.txt'), 'b');
  fs.writeFileSync(p('secret/k.txt'), 'k');
  fs.writeFileSync(p('top.txt'), 't');
  fs.symlinkSync('../secret', p('app/out'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rootFor = (scopes: string[]): Root => ({ real: project, reserved: reservedPaths(project), place: placeFor(scopes.map(p))! });
const code = (e: unknown) => (e as { code?: string }).code;
const refused = async (promise: Promise<unknown>) =>
  code(
    await promise.then(
      () => null,
      (e: unknown) => e,
    ),
  );
const byName = (a: fs.Dirent, b: fs.Dirent) => (a.name < b.name ? -1 : 1);

describe('confinement with a place', () => {
  it('reads inside a scope; refuses outside, on the way, through a symlink out, and before asking the file system', async () => {
    const root = rootFor(['app']);
    const f = await openFile(root, 'app/a.txt');
    await f.handle.close();
    for (const q of ['top.txt', 'app2/b.txt', 'secret/k.txt', 'app/out/k.txt', 'app/../secret/k.txt', 'secret/missing', 'no/such/dir']) {
      expect(await refused(openFile(root, q)), q).toBe('outside_scope');
    }
    // The project itself is on the way to the scope: it may be listed, never read as a path of its own.
    expect(await refused(locate(root, '.'))).toBe('outside_scope');
    expect(await locate(root, '.', { way: true })).toBe(project);
  });

  it('lists only the way to a scope from above it, and everything inside it', async () => {
    const root = rootFor(['app/sub', 'lib']);
    const top = await listDirectory(root, '.', { max: 100, order: byName });
    expect(top.entries.map((e) => e.name)).toEqual(['app', 'lib']);
    expect(top.total).toBe(2);
    const app = await listDirectory(root, 'app', { max: 100, order: byName });
    expect(app.entries.map((e) => e.name)).toEqual(['sub']);
    const sub = await listDirectory(root, 'app/sub', { max: 100, order: byName });
    expect(sub.entries.map((e) => e.name)).toEqual(['s.txt']);
    expect(await refused(listDirectory(root, 'app2', { max: 100, order: byName }))).toBe('outside_scope');
    expect(await refused(listDirectory(root, 'secret', { max: 100, order: byName }))).toBe('outside_scope');
  });

  it('writes only inside a scope: not beside it, not through a symlink out, not re-creating a deleted scope', async () => {
    const root = rootFor(['app', 'gone']);
    expect((await writeFileConfined(root, 'app/new/deep/n.txt', 'n', { createParents: true })).created).toBe(true);
    for (const q of ['top.txt', 'app2/x.txt', 'secret/x.txt', 'app/out/x.txt', 'gone/x.txt']) {
      expect(await refused(writeFileConfined(root, q, 'x', { createParents: true })), q).toBe('outside_scope');
    }
    expect(fs.existsSync(p('gone'))).toBe(false);
    expect(fs.readdirSync(p('secret'))).toEqual(['k.txt']);
    expect(fs.readdirSync(p('app2'))).toEqual(['b.txt']);
  });

  it('the walk enters only the way and the scopes, and names only what is inside', async () => {
    const root = rootFor(['app/sub', 'lib']);
    const seen: string[] = [];
    for await (const e of walk(root, { deadline: Date.now() + 10_000, maxEntries: 1000 }, { truncated: false })) seen.push(e.rel);
    expect(seen.sort()).toEqual(['app/sub', 'app/sub/s.txt', 'lib']);
  });

  it('a directory argument (a terminal cwd, a session directory) must lie inside a scope', async () => {
    const place = placeFor([p('app')]);
    expect(await resolveInside(project, 'app/sub', place)).toBe(p('app/sub'));
    for (const q of ['.', 'app2', 'app/out', 'app/..', '/tmp']) {
      const c = await refused(resolveInside(project, q, place));
      expect(c === 'outside_scope' || (q === '/tmp' && c === 'path_outside_root'), `${q}: ${c}`).toBe(true);
    }
  });
});

describe("the agent's tools with a place", () => {
  const ran: string[] = [];
  const runCommand: RunCommand = (_command, o) => {
    ran.push(o.cwd);
    return Promise.resolve({ exitCode: 0, signal: null, output: '', truncated: false, timedOut: false, aborted: false, durationMs: 1 });
  };

  it('in a directory inside the scope: every file tool is confined to it (and to the scope), run_command runs there', async () => {
    const tools = createToolHandlers({ directory: p('app'), place: placeFor([p('app')]), runCommand });
    expect(await tools.read_file({ path: 'a.txt' })).toMatchObject({ content: 'a' });
    expect(await tools.list_files({})).toMatchObject({ entries: ['a.txt', 'out@', 'sub/'] });
    expect(await tools.write_file({ path: 'w.txt', content: 'w' })).toMatchObject({ created: true });
    for (const q of ['out/k.txt', '../secret/k.txt', '../app2/b.txt']) expect(await tools.read_file({ path: q }), q).toHaveProperty('error');
    expect(await tools.write_file({ path: 'out/x.txt', content: 'x' })).toHaveProperty('error');
    expect(fs.readdirSync(p('secret'))).toEqual(['k.txt']);
    expect(await tools.run_command({ command: 'pwd' })).toMatchObject({ exitCode: 0 });
    expect(ran.at(-1)).toBe(p('app'));
  });

  it('in a directory that is not inside the scope: no tool runs at all, run_command included', async () => {
    ran.length = 0;
    const tools = createToolHandlers({ directory: project, place: placeFor([p('app')]), runCommand });
    for (const r of [
      await tools.read_file({ path: 'app/a.txt' }),
      await tools.list_files({ path: 'app' }),
      await tools.write_file({ path: 'app/x.txt', content: 'x' }),
      await tools.edit_file({ path: 'app/a.txt', old_string: 'a', new_string: 'b' }),
      await tools.run_command({ command: 'pwd' }),
    ]) {
      expect(r).toEqual({ error: expect.stringMatching(/outside this token's scopes/) });
    }
    expect(ran).toEqual([]);
    expect(fs.readFileSync(p('app/a.txt'), 'utf8')).toBe('a');
  });
});
