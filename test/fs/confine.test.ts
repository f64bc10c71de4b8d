// The confinement module directly, on Linux (/proc/self/fd) and with the portable fallback.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkPin, hasProcFd, setProcFdForTests, type Root } from '../../src/fs/confine.js';
import { listDirectory, openFile, readAtMost, writeFileConfined } from '../../src/fs/io.js';
import { idOf, ReservedPaths } from '../../src/fs/reserved.js';
import { readWalkedFile, walk } from '../../src/fs/walk.js';

let tmp: string;
let root: Root;
const initialProc = hasProcFd();

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-confine-')));
  const project = path.join(tmp, 'project');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.mkdirSync(path.join(project, 'own', 'tether'), { recursive: true });
  fs.writeFileSync(path.join(project, 'src', 'a.txt'), 'inside\n');
  fs.writeFileSync(path.join(project, 'own', 'tether', 'token'), 'tether_secret');
  fs.writeFileSync(path.join(tmp, 'outside.txt'), 'outside');
  fs.symlinkSync(path.join(tmp, 'outside.txt'), path.join(project, 'link-out'));
  fs.symlinkSync(tmp, path.join(project, 'dir-out'));
  execFileSync('mkfifo', [path.join(project, 'fifo')]);
  root = { real: project, reserved: new ReservedPaths([{ dir: path.join(project, 'own', 'tether') }]) };
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
afterAll(() => setProcFdForTests(initialProc));

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

const modes = initialProc ? [true, false] : [false];
describe.each(modes)('with /proc/self/fd: %s', (proc) => {
  beforeEach(() => setProcFdForTests(proc));

  it('opens a regular file inside and reports its verified real path', async () => {
    const f = await openFile(root, 'src/a.txt');
    try {
      expect(f.real).toBe(path.join(root.real, 'src', 'a.txt'));
      expect((await readAtMost(f.handle, f.size)).toString()).toBe('inside\n');
    } finally {
      await f.handle.close();
    }
  });

  it('refuses what is outside, reserved, not a regular file, or missing, with its code', async () => {
    expect(await code(openFile(root, 'link-out'))).toBe('path_outside_root');
    expect(await code(openFile(root, 'dir-out/outside.txt'))).toBe('path_outside_root');
    expect(await code(openFile(root, 'own/tether/token'))).toBe('path_reserved');
    expect(await code(openFile(root, 'fifo'))).toBe('not_regular_file');
    expect(await code(openFile(root, 'src'))).toBe('is_directory');
    expect(await code(openFile(root, 'nope'))).toBe('not_found');
    expect(await code(listDirectory(root, 'src/a.txt', { max: 10, order: () => 0 }))).toBe('not_directory');
    expect(await code(listDirectory(root, 'own/tether', { max: 10, order: () => 0 }))).toBe('path_reserved');
  });

  it('lists a directory without the reserved one', async () => {
    const l = await listDirectory(root, 'own', { max: 10, order: () => 0 });
    expect(l.entries).toEqual([]);
    const top = await listDirectory(root, '.', { max: 10, order: (a, b) => (a.name < b.name ? -1 : 1) });
    expect(top.entries.map((e) => `${e.type}:${e.name}`)).toEqual(['symlink:dir-out', 'other:fifo', 'symlink:link-out', 'directory:own', 'directory:src']);
  });

  it('writes atomically, creating parents, never through a symlink out or into a reserved directory', async () => {
    expect(await writeFileConfined(root, 'new/deep/f.txt', 'x', { createParents: true })).toMatchObject({
      real: path.join(root.real, 'new/deep/f.txt'),
      created: true,
    });
    expect(fs.readFileSync(path.join(root.real, 'new/deep/f.txt'), 'utf8')).toBe('x');
    expect(await code(writeFileConfined(root, 'dir-out/pwned', 'x', { createParents: true }))).toBe('path_outside_root');
    expect(await code(writeFileConfined(root, 'own/tether/token', 'x', { createParents: true }))).toBe('path_reserved');
    expect(await code(writeFileConfined(root, 'missing/f.txt', 'x', { createParents: false }))).toBe('not_found');
    expect(await code(writeFileConfined(root, 'src/a.txt/f.txt', 'x', { createParents: true }))).toBe('not_directory');
    expect(await code(writeFileConfined(root, 'fifo', 'x', { createParents: true }))).toBe('not_regular_file');
    expect(fs.existsSync(path.join(tmp, 'pwned'))).toBe(false);
    expect(fs.readFileSync(path.join(root.real, 'own', 'tether', 'token'), 'utf8')).toBe('tether_secret');
    // No temp files left behind.
    expect(fs.readdirSync(path.join(root.real, 'new', 'deep'))).toEqual(['f.txt']);
  });

  it('the walk skips reserved directories, symlinks and special files', async () => {
    const seen: string[] = [];
    for await (const e of walk(root, { deadline: Date.now() + 5000, maxEntries: 1000 }, { truncated: false })) {
      seen.push(e.rel);
      if (e.type === 'file') expect((await readWalkedFile(root, e, 1024))?.toString()).toBe('inside\n');
    }
    expect(seen).toEqual(['own', 'src', 'src/a.txt']);
  });
});

describe('a pinned root', () => {
  it('refuses once the directory was moved and replaced by a symlink or another directory', async () => {
    const pinned: Root = { ...root, pin: idOf(fs.statSync(root.real)) };
    await checkPin(pinned);
    fs.renameSync(root.real, `${root.real}.moved`);
    fs.symlinkSync(`${root.real}.moved`, root.real);
    expect(await code(checkPin(pinned))).toBe('directory_replaced');
    expect(await code(openFile(pinned, 'src/a.txt'))).toBe('directory_replaced');
    fs.unlinkSync(root.real);
    fs.mkdirSync(root.real);
    expect(await code(writeFileConfined(pinned, 'x.txt', 'x', { createParents: true }))).toBe('directory_replaced');
    fs.rmdirSync(root.real);
    fs.renameSync(`${root.real}.moved`, root.real);
    await checkPin(pinned); // the same directory again
  });
});
