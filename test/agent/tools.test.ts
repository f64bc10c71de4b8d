import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunCommand } from '../../src/agent/command.js';
import { createToolHandlers, READ_MAX_BYTES } from '../../src/agent/tools.js';

let tmp: string;
let dir: string;
let tools: ReturnType<typeof createToolHandlers>;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-tools-'));
  dir = path.join(tmp, 'project');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(tmp, 'outside.txt'), 'outside');
  tools = createToolHandlers({ directory: dir });
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const write = (rel: string, content: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), content);
};
const read = (rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

describe('confinement', () => {
  beforeEach(() => {
    fs.symlinkSync(path.join(tmp, 'outside.txt'), path.join(dir, 'file-link'));
    fs.symlinkSync(tmp, path.join(dir, 'dir-link'));
  });

  const escapes = ['../outside.txt', '/etc/passwd', 'file-link', 'dir-link/outside.txt', 'a/../../outside.txt'];

  it.each(escapes)('refuses %s in every path tool', async (p) => {
    const results = [
      await tools.read_file({ path: p }),
      await tools.list_files({ path: p }),
      await tools.write_file({ path: p, content: 'x' }),
      await tools.edit_file({ path: p, old_string: 'outside', new_string: 'pwned' }),
    ];
    for (const r of results) expect(r).toEqual({ error: expect.stringMatching(/outside the allowed directory/) });
    expect(fs.readFileSync(path.join(tmp, 'outside.txt'), 'utf8')).toBe('outside');
  });

  it('refuses to create files through a symlinked directory', async () => {
    expect(await tools.write_file({ path: 'dir-link/new.txt', content: 'x' })).toHaveProperty('error');
    expect(fs.existsSync(path.join(tmp, 'new.txt'))).toBe(false);
  });

  it('accepts an absolute path inside the directory and a symlink that stays inside', async () => {
    write('real.txt', 'inside\n');
    fs.symlinkSync('real.txt', path.join(dir, 'inner-link'));
    expect(await tools.read_file({ path: path.join(dir, 'real.txt') })).toMatchObject({ content: 'inside\n' });
    expect(await tools.read_file({ path: 'inner-link' })).toMatchObject({ path: 'real.txt', content: 'inside\n' });
  });
});

describe('read_file', () => {
  it('reads a whole file with its exact line endings', async () => {
    write('a.txt', 'one\r\ntwo\nthree');
    expect(await tools.read_file({ path: 'a.txt' })).toEqual({
      path: 'a.txt',
      content: 'one\r\ntwo\nthree',
      startLine: 1,
      endLine: 3,
      totalLines: 3,
    });
  });

  it('reads a window with offset and limit and says how to continue', async () => {
    write('n.txt', Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join(''));
    expect(await tools.read_file({ path: 'n.txt', offset: 3, limit: 2 })).toEqual({
      path: 'n.txt',
      content: 'line 3\nline 4\n',
      startLine: 3,
      endLine: 4,
      truncated: true,
      note: 'more follows; call read_file with offset 5 to continue',
    });
    // A window ending exactly at the end of the file is complete.
    expect(await tools.read_file({ path: 'n.txt', offset: 9, limit: 2 })).toMatchObject({ content: 'line 9\nline 10\n', totalLines: 10 });
    expect(await tools.read_file({ path: 'n.txt', offset: 9, limit: 2 })).not.toHaveProperty('truncated');
    expect(await tools.read_file({ path: 'n.txt', offset: 11 })).toEqual({ error: 'offset 11 is past the end of n.txt (10 lines)' });
  });

  it('caps the bytes returned, at a line boundary', async () => {
    const line = `${'x'.repeat(99)}\n`;
    write('big.txt', line.repeat(5000)); // 500 KB
    const r = (await tools.read_file({ path: 'big.txt' })) as { content: string; endLine: number; note: string };
    expect(r.content.length).toBeLessThanOrEqual(READ_MAX_BYTES);
    expect(r.content.endsWith('\n')).toBe(true);
    expect(r.endLine).toBe(Math.floor(READ_MAX_BYTES / 100));
    expect(r.note).toContain(`offset ${r.endLine + 1}`);
  });

  it('shows the start of a single line longer than the cap', async () => {
    write('min.js', 'y'.repeat(READ_MAX_BYTES * 3));
    const r = (await tools.read_file({ path: 'min.js' })) as { content: string; truncated: boolean };
    expect(r.content).toHaveLength(READ_MAX_BYTES);
    expect(r.truncated).toBe(true);
  });

  it('explains missing files, directories and binary files', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([1, 2, 0, 3]));
    expect(await tools.read_file({ path: 'nope.txt' })).toEqual({ error: 'nope.txt does not exist' });
    expect(await tools.read_file({ path: 'sub' })).toEqual({ error: expect.stringContaining('is a directory; use list_files') });
    expect(await tools.read_file({ path: 'bin.dat' })).toEqual({ error: expect.stringContaining('binary') });
  });

  it('reads an empty file', async () => {
    write('empty.txt', '');
    expect(await tools.read_file({ path: 'empty.txt' })).toMatchObject({ content: '', totalLines: 0 });
  });
});

describe('list_files', () => {
  it('lists entries sorted, marking directories and symlinks', async () => {
    write('b.txt', '');
    write('src/index.ts', '');
    fs.symlinkSync('b.txt', path.join(dir, 'link'));
    expect(await tools.list_files({})).toEqual({ path: '.', entries: ['b.txt', 'link@', 'src/'] });
    expect(await tools.list_files({ path: 'src' })).toEqual({ path: 'src', entries: ['index.ts'] });
    expect(await tools.list_files({ path: 'b.txt' })).toEqual({ error: 'a parent of b.txt is not a directory' });
  });
});

describe('write_file', () => {
  it('creates parent directories and overwrites atomically, keeping the mode', async () => {
    expect(await tools.write_file({ path: 'deep/er/new.txt', content: 'héllo' })).toEqual({
      path: 'deep/er/new.txt',
      bytes: 6,
      created: true,
    });
    expect(read('deep/er/new.txt')).toBe('héllo');

    write('run.sh', 'old');
    fs.chmodSync(path.join(dir, 'run.sh'), 0o755);
    expect(await tools.write_file({ path: 'run.sh', content: 'new' })).toMatchObject({ created: false });
    expect(read('run.sh')).toBe('new');
    expect(fs.statSync(path.join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    // No temp files left behind.
    expect(fs.readdirSync(dir).sort()).toEqual(['deep', 'run.sh']);
  });

  it('refuses to replace a directory', async () => {
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(await tools.write_file({ path: 'sub', content: 'x' })).toEqual({ error: 'sub is a directory' });
    expect(await tools.write_file({ path: '.', content: 'x' })).toHaveProperty('error');
  });
});

describe('edit_file', () => {
  it('replaces exactly one occurrence and keeps replacement text literal', async () => {
    write('a.ts', 'const a = 1;\nconst b = 2;\n');
    expect(await tools.edit_file({ path: 'a.ts', old_string: 'const b = 2;', new_string: 'const b = "$&$1";' })).toEqual({
      path: 'a.ts',
      replacements: 1,
      line: 2,
    });
    expect(read('a.ts')).toBe('const a = 1;\nconst b = "$&$1";\n');
  });

  it('says how many times old_string occurred when it is not unique', async () => {
    write('dup.txt', 'foo\nfoo\nbar foo\n');
    expect(await tools.edit_file({ path: 'dup.txt', old_string: 'foo', new_string: 'x' })).toEqual({
      error: expect.stringContaining('occurs 3 times in dup.txt; it must occur exactly once'),
    });
    // Overlapping matches are ambiguous too.
    write('aaa.txt', 'aaa');
    expect(await tools.edit_file({ path: 'aaa.txt', old_string: 'aa', new_string: 'b' })).toEqual({
      error: expect.stringContaining('occurs 2 times'),
    });
    expect(read('dup.txt')).toBe('foo\nfoo\nbar foo\n');
  });

  it('explains a missing match, an empty old_string and a no-op', async () => {
    write('a.txt', 'hello\n');
    expect(await tools.edit_file({ path: 'a.txt', old_string: 'Hello', new_string: 'x' })).toEqual({
      error: expect.stringContaining('old_string was not found in a.txt'),
    });
    expect(await tools.edit_file({ path: 'a.txt', old_string: '', new_string: 'x' })).toEqual({
      error: expect.stringContaining('must not be empty'),
    });
    expect(await tools.edit_file({ path: 'a.txt', old_string: 'hello', new_string: 'hello' })).toEqual({
      error: expect.stringContaining('identical'),
    });
    expect(await tools.edit_file({ path: 'gone.txt', old_string: 'a', new_string: 'b' })).toEqual({ error: 'gone.txt does not exist' });
  });
});

describe('run_command', () => {
  it('runs in the directory and returns exit code and output', async () => {
    write('hello.txt', 'hi');
    const r = (await tools.run_command({ command: 'pwd; cat hello.txt; echo; echo err >&2; exit 3' })) as { output: string };
    expect(r).toEqual({ exitCode: 3, output: expect.any(String) });
    // stdout and stderr are separate pipes, so only the order within each is fixed.
    expect(r.output).toContain(`${fs.realpathSync(dir)}\nhi\n`);
    expect(r.output).toContain('err\n');
  });

  it('reports a timeout', async () => {
    const r = await tools.run_command({ command: 'sleep 20', timeoutMs: 200 });
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true });
  });

  it('uses an injected runner with the confined cwd and the timeout', async () => {
    const calls: Array<[string, string, number]> = [];
    const runCommand: RunCommand = (command, o) => {
      calls.push([command, o.cwd, o.timeoutMs]);
      return Promise.resolve({ exitCode: 0, signal: null, output: 'fake', truncated: false, timedOut: false, aborted: false, durationMs: 1 });
    };
    const t = createToolHandlers({ directory: dir, runCommand });
    expect(await t.run_command({ command: 'make' })).toEqual({ exitCode: 0, output: 'fake' });
    expect(calls).toEqual([['make', fs.realpathSync(dir), 60_000]]);
    // A runner that throws becomes an error result too.
    const broken = createToolHandlers({ directory: dir, runCommand: () => Promise.reject(new Error('shell gone')) });
    expect(await broken.run_command({ command: 'ls' })).toEqual({ error: 'shell gone' });
  });
});

describe('the pinned directory', () => {
  it('refuses every later tool call once a command has moved the directory and put a symlink in its place', async () => {
    write('mine.txt', 'mine');
    const moved = await tools.run_command({ command: `cd .. && mv project project.moved && ln -s ${tmp} project` });
    expect(moved).toMatchObject({ exitCode: 0 });
    const results = [
      await tools.read_file({ path: 'outside.txt' }),
      await tools.list_files({}),
      await tools.write_file({ path: 'pwned.txt', content: 'x' }),
      await tools.edit_file({ path: 'outside.txt', old_string: 'outside', new_string: 'pwned' }),
      await tools.run_command({ command: 'touch pwned-by-command' }),
    ];
    for (const r of results) expect(r).toEqual({ error: expect.stringMatching(/was moved or replaced/) });
    expect(fs.readdirSync(tmp).sort()).toEqual(['outside.txt', 'project', 'project.moved']);
    expect(fs.readFileSync(path.join(tmp, 'outside.txt'), 'utf8')).toBe('outside');
  });

  it('refuses a new directory made at the same path, and accepts the original moved back', async () => {
    write('mine.txt', 'mine');
    expect(await tools.read_file({ path: 'mine.txt' })).toMatchObject({ content: 'mine' });
    fs.renameSync(dir, `${dir}.old`);
    fs.mkdirSync(dir);
    expect(await tools.write_file({ path: 'a.txt', content: 'x' })).toEqual({ error: expect.stringMatching(/was moved or replaced/) });
    fs.rmdirSync(dir);
    fs.renameSync(`${dir}.old`, dir);
    expect(await tools.read_file({ path: 'mine.txt' })).toMatchObject({ content: 'mine' });
  });

  it('a pin given by the session (made at its creation) that no longer matches refuses from the first call', async () => {
    const st = fs.statSync(dir, { bigint: true });
    const stale = createToolHandlers({ directory: dir, pin: `${st.dev}:${st.ino + 1n}` });
    expect(await stale.read_file({ path: 'x' })).toEqual({ error: expect.stringMatching(/was moved or replaced/) });
    expect(await stale.run_command({ command: 'true' })).toEqual({ error: expect.stringMatching(/was moved or replaced/) });
    const current = createToolHandlers({ directory: dir, pin: `${st.dev}:${st.ino}` });
    expect(await current.list_files({})).toEqual({ path: '.', entries: [] });
  });
});

describe("tether's own files", () => {
  it('are never read, listed or written by the tools, even inside the directory', async () => {
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = path.join(dir, 'cfg');
    try {
      write('cfg/tether/credentials.json', 'tether_secret');
      write('cfg/other.txt', 'fine');
      fs.symlinkSync('cfg/tether', path.join(dir, 'cfg-link'));
      const t = createToolHandlers({ directory: dir });
      for (const p of ['cfg/tether/credentials.json', 'cfg-link/credentials.json', path.join(dir, 'cfg/TETHER/../tether/credentials.json')]) {
        expect(await t.read_file({ path: p })).toEqual({ error: expect.stringMatching(/reserved/) });
        expect(await t.edit_file({ path: p, old_string: 'secret', new_string: 'x' })).toEqual({ error: expect.stringMatching(/reserved/) });
        expect(await t.write_file({ path: p, content: 'x' })).toEqual({ error: expect.stringMatching(/reserved/) });
      }
      expect(await t.write_file({ path: 'cfg/tether/new.json', content: 'x' })).toEqual({ error: expect.stringMatching(/reserved/) });
      expect(await t.list_files({ path: 'cfg/tether' })).toEqual({ error: expect.stringMatching(/reserved/) });
      expect(await t.list_files({ path: 'cfg' })).toEqual({ path: 'cfg', entries: ['other.txt'] });
      expect(read('cfg/tether/credentials.json')).toBe('tether_secret');
      expect(fs.existsSync(path.join(dir, 'cfg/tether/new.json'))).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});
