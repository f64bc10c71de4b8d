// The audit log's writer on its own: the file's place and modes, one whole line per event, what a
// line may never hold, recovery from a torn last line, rotation, and failures that never reach the
// caller but are reported.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, recordOnce } from '../../src/audit/log.js';
import { MAX_FIELD_CHARS, REDACTED_TOKEN } from '../../src/audit/format.js';
import { generateToken } from '../../src/auth/token-format.js';
import type { Logger, LogLevel } from '../../src/log.js';
import { actor, events, filesOldestFirst, rawLines, tempDir } from './helpers.js';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

function setup(opts: ConstructorParameters<typeof AuditLog>[0] = {}) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const reports: { level: LogLevel; event: string; fields: Record<string, unknown> }[] = [];
  const log: Logger = { log: (level, event, fields = {}) => reports.push({ level, event, fields }) };
  const audit = new AuditLog({ dir: t.dir, log, ...opts });
  cleanups.push(() => audit.close());
  return { dir: t.dir, audit, reports };
}

describe('the audit file', () => {
  it('is audit.jsonl in the state directory, 0600 in a 0700 directory, one JSON line per event with the actor first', () => {
    const { dir, audit } = setup();
    audit.record('config.update', actor('tok_a', 'laptop', '10.0.0.7'), { keys: ['model', 'apiKey'] });
    audit.record('web.login', actor('tok_b', 'phone'), {});
    const file = path.join(dir, 'audit.jsonl');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]);
    expect(Object.keys(first).slice(0, 5)).toEqual(['time', 'kind', 'tokenId', 'tokenName', 'address']);
    expect(first).toMatchObject({ kind: 'config.update', tokenId: 'tok_a', tokenName: 'laptop', address: '10.0.0.7', keys: ['model', 'apiKey'] });
    expect(Date.parse(first.time)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('makes a loose existing directory and file private', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    fs.mkdirSync(t.dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(t.dir, 0o755);
    fs.writeFileSync(path.join(t.dir, 'audit.jsonl'), '', { mode: 0o644 });
    fs.chmodSync(path.join(t.dir, 'audit.jsonl'), 0o644);
    recordOnce('web.logout', actor(), {}, { dir: t.dir });
    expect(fs.statSync(t.dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(t.dir, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('a kind cannot overwrite the actor or the time', () => {
    const { dir, audit } = setup();
    audit.record('file.write', actor('tok_real', 'real'), { path: 'a.txt', tokenId: 'tok_forged', kind: 'x', time: '1970-01-01T00:00:00Z' } as never);
    expect(events(dir)[0]).toMatchObject({ kind: 'file.write', tokenId: 'tok_real', tokenName: 'real', path: 'a.txt' });
    expect(events(dir)[0].time).not.toMatch(/^1970/);
  });

  it('never holds a tether token: one inside a command is redacted, whatever the field', () => {
    const { dir, audit } = setup();
    const token = generateToken();
    audit.record('shell.start', actor(), { sessionId: 's', command: `curl -H "Authorization: Bearer ${token}" http://x`, cwd: `/p/${token}` });
    audit.record('pty.start', actor(), { ptyId: 'p', command: 'sh', args: ['-c', `echo ${token}`], cwd: '/p' });
    const text = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toMatch(/tether_[0-9A-Za-z]{28}/);
    expect(events(dir)[0].command).toBe(`curl -H "Authorization: Bearer ${REDACTED_TOKEN}" http://x`);
    expect((events(dir)[1].args as string[])[1]).toBe(`echo ${REDACTED_TOKEN}`);
  });

  it('caps long strings and arrays, and escapes what a terminal would act on', () => {
    const { dir, audit } = setup();
    const huge = 'x'.repeat(5 * 1024 * 1024);
    audit.record('agent.tool', actor(), { sessionId: 's', tool: 'run_command', directory: '/p', command: huge });
    audit.record('pty.start', actor(), { ptyId: 'p', command: 'sh', args: Array.from({ length: 1000 }, (_, i) => String(i)), cwd: '/p' });
    audit.record('shell.start', actor(), { sessionId: 's', command: 'echo \u001b]52;c;aGk=\u0007 \u202e \u2028 \u009b', cwd: '/p' });
    const lines = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').split('\n');
    expect(lines[0].length).toBeLessThan(MAX_FIELD_CHARS + 1000);
    expect(events(dir)[0].command).toMatch(/^x{4096}… \[5238784 more characters not logged\]$/);
    expect(events(dir)[1].args).toHaveLength(65);
    // Raw in the file: no ESC, BEL, bidi override, line separator or C1 byte.
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    expect(lines[2]).not.toMatch(/[\u001b\u0007\u202e\u2028\u009b]/);
    expect(events(dir)[2].command).toBe('echo \u001b]52;c;aGk=\u0007 \u202e \u2028 \u009b');
  });
});

describe('a torn last line (a writer killed mid-write)', () => {
  it('is skipped by readers, and the next line starts on a fresh line', () => {
    const { dir, audit } = setup();
    audit.record('web.login', actor(), {});
    fs.appendFileSync(path.join(dir, 'audit.jsonl'), '{"time":"2026-01-01T00:00:00.000Z","kind":"pty.st');
    audit.record('web.logout', actor(), {});
    const lines = rawLines(dir);
    expect(lines.map((l) => l.event?.kind ?? 'TORN')).toEqual(['web.login', 'TORN', 'web.logout']);
    // ...also for a writer that opens the file only now (the CLI).
    fs.appendFileSync(path.join(dir, 'audit.jsonl'), '{"time":"2026-01-01T00:00:00.000Z","ki');
    recordOnce('token.delete', actor(), {}, { dir });
    expect(rawLines(dir).map((l) => l.event?.kind ?? 'TORN')).toEqual(['web.login', 'TORN', 'web.logout', 'TORN', 'token.delete']);
  });
});

describe('rotation', () => {
  it('keeps maxFiles files of at most maxBytes, in order, and loses no line across a boundary', () => {
    const { dir, audit } = setup({ maxBytes: 2000, maxFiles: 5 });
    const n = 400;
    for (let i = 0; i < n; i++) audit.record('file.write', actor(), { path: `f${i}.txt`, bytes: i });
    const files = filesOldestFirst(dir);
    expect(files.map((f) => path.basename(f))).toEqual(['audit.4.jsonl', 'audit.3.jsonl', 'audit.2.jsonl', 'audit.1.jsonl', 'audit.jsonl']);
    for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(2000);
    for (const f of files) expect(fs.statSync(f).mode & 0o777).toBe(0o600);
    // What is kept is one unbroken run ending with the newest line: nothing lost at the boundaries.
    const kept = events(dir).map((e) => e.bytes as number);
    expect(kept.length).toBeGreaterThan(40);
    expect(kept.at(-1)).toBe(n - 1);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => n - kept.length + i));
    expect(rawLines(dir).every((l) => l.event)).toBe(true);
  });

  it('a line written through a descriptor opened before another writer rotated lands in audit.1.jsonl', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const a = new AuditLog({ dir: t.dir, maxBytes: 1000 });
    const b = new AuditLog({ dir: t.dir, maxBytes: 1000 });
    cleanups.push(() => (a.close(), b.close()));
    let i = 0;
    // Interleaved: each holds its own descriptor while the other rotates under it.
    while (filesOldestFirst(t.dir).length < 3) {
      a.record('file.write', actor('tok_a'), { path: `a${i}` });
      b.record('file.write', actor('tok_b'), { path: `b${i}` });
      i++;
    }
    const seen = events(t.dir).map((e) => e.path as string);
    const first = Number(seen[0].slice(1));
    const expected = [];
    for (let j = first; j < i; j++) expected.push(`a${j}`, `b${j}`);
    // The oldest kept line may be either writer's: compare from the first complete pair.
    expect(seen.slice(seen[0].startsWith('a') ? 0 : 1)).toEqual(expected.slice(seen[0].startsWith('a') ? 0 : 1));
  });
});

describe('the log failing', () => {
  it('a state path that cannot be a directory: record never throws, the failure is reported at once, then at most once a minute', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    fs.mkdirSync(path.dirname(t.dir), { recursive: true });
    fs.writeFileSync(t.dir, 'a file where the directory should be');
    let now = 1_000_000;
    const reports: string[] = [];
    const audit = new AuditLog({ dir: t.dir, now: () => now, log: { log: (_l, event) => reports.push(event) } });
    for (let i = 0; i < 100; i++) audit.record('web.login', actor(), {});
    expect(reports).toEqual(['audit.write_failed']);
    expect(audit.status()).toMatchObject({ ok: false, lostLines: 100, failingSince: new Date(1_000_000).toISOString() });
    expect(audit.status().error).toMatch(/EEXIST|ENOTDIR|not a directory/);
    now += 59_000;
    audit.record('web.login', actor(), {});
    expect(reports).toHaveLength(1);
    now += 1_000;
    audit.record('web.login', actor(), {});
    expect(reports).toEqual(['audit.write_failed', 'audit.write_failed']);
  });

  it('a full disk (/dev/full): every write fails, nothing throws, and it is reported', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    fs.mkdirSync(t.dir, { recursive: true });
    fs.symlinkSync('/dev/full', path.join(t.dir, 'audit.jsonl'));
    const reports: Record<string, unknown>[] = [];
    const audit = new AuditLog({ dir: t.dir, log: { log: (_l, event, fields = {}) => reports.push({ event, ...fields }) } });
    cleanups.push(() => audit.close());
    expect(() => audit.record('config.update', actor(), { keys: ['shell'] })).not.toThrow();
    expect(audit.status()).toMatchObject({ ok: false, lostLines: 1 });
    expect(String(reports[0].error)).toMatch(/ENOSPC/);
  });

  it('a descriptor that starts failing mid-run (EIO, short writes): lines are counted, and an audit.lost line says so once it works again', () => {
    let failing = false;
    let short = false;
    const { dir, audit, reports } = setup({
      io: {
        write: (fd, data) => {
          if (failing) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          if (short) return fs.writeSync(fd, data.subarray(0, 10));
          return fs.writeSync(fd, data);
        },
      },
    });
    audit.record('web.login', actor(), {});
    failing = true;
    for (let i = 0; i < 3; i++) audit.record('pty.start', actor(), { ptyId: `p${i}`, command: 'sh', args: [], cwd: '/' });
    failing = false;
    short = true;
    audit.record('pty.start', actor(), { ptyId: 'short', command: 'sh', args: [], cwd: '/' });
    expect(audit.status()).toMatchObject({ ok: false, lostLines: 4 });
    expect(audit.status().error).toMatch(/short write/);
    short = false;
    audit.record('web.logout', actor(), {});
    expect(audit.status()).toMatchObject({ ok: true, lostLines: 0 });
    // The short write left a torn fragment: skipped, and the next line started fresh.
    const lines = rawLines(dir);
    expect(lines.map((l) => l.event?.kind ?? 'TORN')).toEqual(['web.login', 'TORN', 'audit.lost', 'web.logout']);
    expect(lines[2].event).toMatchObject({ lines: 4, error: expect.stringMatching(/short write/), tokenId: null, address: 'server' });
    expect(reports.map((r) => r.event)).toEqual(['audit.write_failed', 'audit.recovered']);
  });

  it('a state directory deleted while running is made again, private', () => {
    const { dir, audit } = setup();
    audit.record('web.login', actor(), {});
    fs.rmSync(dir, { recursive: true });
    audit.record('web.logout', actor(), {});
    expect(events(dir).map((e) => e.kind)).toEqual(['web.logout']);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(audit.status().ok).toBe(true);
  });

  it('after close, a late event is still written (opened, written, closed)', () => {
    const { dir, audit } = setup();
    audit.close();
    audit.record('pty.exit', actor(), { ptyId: 'p', command: 'sh', exitCode: 0, signal: null });
    expect(events(dir).map((e) => e.kind)).toEqual(['pty.exit']);
  });
});
