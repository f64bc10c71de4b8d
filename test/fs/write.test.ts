// The atomic write and the delete (src/fs/write.ts) directly, with failures injected at each step
// (creating the temp file, writing, fsync, rename): the old file must stay byte-identical and no
// temp file may be left, with the /proc/self/fd path and the portable fallback.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hasProcFd, setProcFdForTests, type Root } from '../../src/fs/confine.js';
import { ReservedPaths } from '../../src/fs/reserved.js';
import { deleteFileConfined, writeFileConfined } from '../../src/fs/write.js';

let tmp: string;
let root: Root;
let handleProto: FileHandle;
const initialProc = hasProcFd();

beforeAll(async () => {
  const fh = await fsp.open(os.tmpdir(), 'r');
  handleProto = Object.getPrototypeOf(fh) as FileHandle;
  await fh.close();
});
beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-write-')));
  const project = path.join(tmp, 'project');
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(path.join(project, 'src', 'a.txt'), 'the old content\n');
  root = { real: project, reserved: new ReservedPaths([{ dir: path.join(project, 'own', 'tether') }]) };
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});
afterAll(() => setProcFdForTests(initialProc));

const file = () => path.join(root.real, 'src', 'a.txt');
const names = () => fs.readdirSync(path.join(root.real, 'src')).sort();
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string; status?: number }) => `${e.status ?? '-'} ${e.code}`,
  );
const isTemp = (p: unknown) => /\.tether-\d+-[0-9a-f]{12}\.tmp$/.test(String(p));

const modes = initialProc ? [true, false] : [false];
describe.each(modes)('with /proc/self/fd: %s', (proc) => {
  beforeEach(() => setProcFdForTests(proc));

  const steps: [string, () => void, string][] = [
    [
      'creating the temp file (EACCES)',
      () => {
        const real = fsp.open;
        vi.spyOn(fsp, 'open').mockImplementation((p, ...rest) => (isTemp(p) ? Promise.reject(errno('EACCES')) : real(p, ...rest)));
      },
      '403 permission_denied',
    ],
    [
      'writing: half written, then the disk is full (ENOSPC)',
      () => {
        const real: (this: FileHandle, data: Buffer) => Promise<void> = Reflect.get(handleProto, 'writeFile');
        vi.spyOn(handleProto, 'writeFile').mockImplementation(async function (this: FileHandle, data) {
          await real.call(this, (data as Buffer).subarray(0, 5));
          throw errno('ENOSPC');
        });
      },
      '507 no_space',
    ],
    ['writing: a file size limit (EFBIG)', () => void vi.spyOn(handleProto, 'writeFile').mockRejectedValue(errno('EFBIG')), '507 file_size_limit'],
    ['fsync (EIO)', () => void vi.spyOn(handleProto, 'sync').mockRejectedValueOnce(errno('EIO')), '- EIO'],
    ['rename (EXDEV)', () => void vi.spyOn(fsp, 'rename').mockRejectedValue(errno('EXDEV')), '- EXDEV'],
    ['rename onto a read-only file system (EROFS)', () => void vi.spyOn(fsp, 'rename').mockRejectedValue(errno('EROFS')), '403 read_only_file_system'],
  ];
  for (const [step, inject, want] of steps) {
    it(`a failure ${step}: ${want}; the old file is byte-identical and no temp file is left`, async () => {
      const before = names();
      inject();
      expect(await outcome(writeFileConfined(root, 'src/a.txt', 'the new content, longer than the old\n', { createParents: false }))).toBe(want);
      vi.restoreAllMocks();
      expect(fs.readFileSync(file(), 'utf8')).toBe('the old content\n');
      expect(names()).toEqual(before);
      // And the next write works.
      expect(await outcome(writeFileConfined(root, 'src/a.txt', 'next\n', { createParents: false }))).toBe('ok');
      expect(fs.readFileSync(file(), 'utf8')).toBe('next\n');
    });
  }

  it('a failure in a directory it created removes that directory again', async () => {
    vi.spyOn(handleProto, 'writeFile').mockRejectedValue(errno('ENOSPC'));
    expect(await outcome(writeFileConfined(root, 'new/deeper/x.txt', 'x', { createParents: true }))).toBe('507 no_space');
    expect(fs.existsSync(path.join(root.real, 'new'))).toBe(false);
  });

  it('a directory put in place of one it created (a swap while it wrote) is not removed on failure', async () => {
    const deeper = path.join(root.real, 'new', 'deeper');
    vi.spyOn(handleProto, 'writeFile').mockImplementation(() => {
      // Someone else's empty directory takes the created one's place (made first, so it has an
      // inode number of its own), and the write then fails.
      const theirs = path.join(root.real, 'theirs');
      fs.mkdirSync(theirs);
      fs.rmSync(deeper, { recursive: true });
      fs.renameSync(theirs, deeper);
      return Promise.reject(errno('ENOSPC'));
    });
    expect(await outcome(writeFileConfined(root, 'new/deeper/x.txt', 'x', { createParents: true }))).toBe('507 no_space');
    // Theirs stays, and so does the parent it made (no longer empty).
    expect(fs.readdirSync(path.join(root.real, 'new'))).toEqual(['deeper']);
  });

  it('fsyncs the file and then its directory (the rename is durable)', async () => {
    const synced: string[] = [];
    const real: (this: FileHandle) => Promise<void> = Reflect.get(handleProto, 'sync');
    vi.spyOn(handleProto, 'sync').mockImplementation(async function (this: FileHandle) {
      synced.push(fs.fstatSync(this.fd).isDirectory() ? 'dir' : 'file');
      return real.call(this);
    });
    await writeFileConfined(root, 'src/a.txt', 'durable', { createParents: false });
    expect(synced).toEqual(['file', 'dir']);
    synced.length = 0;
    await deleteFileConfined(root, 'src/a.txt');
    expect(synced).toEqual(['dir']);
  });

  it('refuses a file the server may not write (read-only), leaving it as it was', async () => {
    const real = fsp.access;
    vi.spyOn(fsp, 'access').mockImplementation((p, mode) => (mode === fs.constants.W_OK ? Promise.reject(errno('EACCES')) : real(p, mode)));
    fs.chmodSync(file(), 0o444);
    const err = await writeFileConfined(root, 'src/a.txt', 'x', { createParents: false }).catch((e: Error) => e);
    expect(err).toMatchObject({ status: 403, code: 'file_read_only' });
    expect((err as Error).message).toContain('0444');
    expect(fs.readFileSync(file(), 'utf8')).toBe('the old content\n');
  });

  it('removes temp files left by a writer that was killed (its process is gone), never a live one or a look-alike', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    const dir = path.join(root.real, 'src');
    const stale = `.tether-${deadPid}-0123456789ab.tmp`;
    const ours = `.tether-${process.pid}-0123456789ab.tmp`; // a write of this process in flight
    const lookalikes = [`.tether-${deadPid}-xyz.tmp`, `tether-${deadPid}-0123456789ab.tmp`, `.tether-${deadPid}-0123456789ab.tmp.bak`];
    for (const n of [stale, ours, ...lookalikes]) fs.writeFileSync(path.join(dir, n), 'partial');
    await writeFileConfined(root, 'src/b.txt', 'x', { createParents: false });
    expect(names()).toEqual(['a.txt', 'b.txt', ours, ...lookalikes].sort());
  });

  it('with If-Match, a change made on disk while the new content was being written wins: 412, nothing replaced', async () => {
    const { etagOf } = await import('../../src/fs/etag.js');
    const tag = etagOf(fs.readFileSync(file()));
    const real: (this: FileHandle) => Promise<void> = Reflect.get(handleProto, 'sync');
    vi.spyOn(handleProto, 'sync').mockImplementationOnce(async function (this: FileHandle) {
      fs.writeFileSync(file(), 'written by an editor meanwhile\n'); // another program, not this server
      return real.call(this);
    });
    const err = await writeFileConfined(root, 'src/a.txt', 'mine', { createParents: false, precondition: { ifMatch: [tag] } }).catch((e: Error) => e);
    expect(err).toMatchObject({ status: 412, code: 'etag_mismatch', currentEtag: etagOf(Buffer.from('written by an editor meanwhile\n')) });
    expect(fs.readFileSync(file(), 'utf8')).toBe('written by an editor meanwhile\n');
    expect(names()).toEqual(['a.txt']);
  });

  it('delete: refuses reserved paths, directories and symlinks; removes a file through the verified directory', async () => {
    fs.mkdirSync(path.join(root.real, 'own', 'tether'), { recursive: true });
    fs.writeFileSync(path.join(root.real, 'own', 'tether', 'token'), 'secret');
    fs.symlinkSync(path.join(root.real, 'own', 'tether'), path.join(root.real, 'own-link'));
    expect(await outcome(deleteFileConfined(root, 'own/tether/token'))).toBe('403 path_reserved');
    expect(await outcome(deleteFileConfined(root, 'own-link/token'))).toBe('403 path_reserved');
    expect(await outcome(deleteFileConfined(root, 'OWN/TETHER/token'))).toMatch(/^(403 path_reserved|404 not_found)$/);
    expect(await outcome(deleteFileConfined(root, 'src'))).toBe('400 is_directory');
    expect(await outcome(deleteFileConfined(root, 'own-link'))).toBe('400 is_symlink');
    expect(fs.readFileSync(path.join(root.real, 'own', 'tether', 'token'), 'utf8')).toBe('secret');
    expect(await outcome(deleteFileConfined(root, 'src/a.txt'))).toBe('ok');
    expect(names()).toEqual([]);
  });

  it('delete: a file replaced between the check and the unlink is not removed (409)', async () => {
    const real = fsp.lstat;
    let calls = 0;
    vi.spyOn(fsp, 'lstat').mockImplementation(async (p, opts) => {
      // The second look at the file (right before the unlink): someone replaced it meanwhile.
      if (String(p).endsWith('a.txt') && ++calls === 2) {
        fs.rmSync(file());
        fs.writeFileSync(file(), 'a new file by someone else');
      }
      return real(p, opts as never);
    });
    expect(await outcome(deleteFileConfined(root, 'src/a.txt'))).toBe('409 path_changed');
    expect(fs.readFileSync(file(), 'utf8')).toBe('a new file by someone else');
  });
});
