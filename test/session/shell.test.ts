import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { SHELL, completeUtf8Length, runShell } from '../../src/session/shell.js';
import { isAlive, tempDir, waitFor } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** The pid a command printed as its first stdout line. */
function firstPid(stdout: string): number {
  const pid = Number(stdout.split('\n')[0]);
  expect(Number.isInteger(pid) && pid > 0, `pid in ${JSON.stringify(stdout)}`).toBe(true);
  return pid;
}

describe('runShell', () => {
  it('captures stdout, stderr and the exit code, in cwd', async () => {
    const r = await runShell({ command: 'pwd; echo oops >&2; exit 3', cwd: tmp.dir });
    expect(r).toMatchObject({
      exitCode: 3,
      signal: null,
      stdout: `${tmp.dir}\n`,
      stderr: 'oops\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      timedOut: false,
      aborted: false,
    });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('uses bash when present, with stdin closed', async () => {
    const r = await runShell({ command: 'echo "$0"; [[ 1 == 1 ]] && echo bashism; cat; echo "cat=$?"', cwd: tmp.dir });
    expect(r.stdout).toBe(`${SHELL}\n${SHELL === '/bin/bash' ? 'bashism\n' : ''}cat=0\n`);
  });

  it('passes env when given', async () => {
    const r = await runShell({ command: 'echo "$FOO"', cwd: tmp.dir, env: { PATH: process.env.PATH, FOO: 'bar' } });
    expect(r.stdout).toBe('bar\n');
  });

  it('kills the whole process tree on timeout, grandchildren included', async () => {
    const r = await runShell({ command: 'sleep 30 & echo $!; wait', cwd: tmp.dir, timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.aborted).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    expect(r.durationMs).toBeLessThan(5_000);
    const grandchild = firstPid(r.stdout);
    await waitFor(() => !isAlive(grandchild), { what: `grandchild ${grandchild} to die` });
  });

  it('escalates to SIGKILL for processes that ignore SIGTERM', async () => {
    const r = await runShell({
      command: "trap '' TERM; sh -c 'trap \"\" TERM; echo $$; exec sleep 30' ; wait",
      cwd: tmp.dir,
      timeoutMs: 300,
      killGraceMs: 200,
    });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    await waitFor(() => !isAlive(firstPid(r.stdout)), { what: 'the TERM-ignoring sleep to die' });
  });

  it('stops background jobs left behind when the shell exits', async () => {
    const r = await runShell({ command: 'sleep 30 & echo $!', cwd: tmp.dir, timeoutMs: 10_000 });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.durationMs).toBeLessThan(5_000);
    const leftover = firstPid(r.stdout);
    await waitFor(() => !isAlive(leftover), { what: `leftover ${leftover} to die` });
  });

  it('stops waiting for output held open by a process that left the group', async () => {
    // setsid puts sleep in its own session, out of reach of the group kill; it keeps stdout open.
    // The shell waits until the escape has happened, so the group kill at exit cannot race it.
    const r = await runShell({
      command: "setsid sh -c 'echo $$ > p; exec sleep 30' & until [ -s p ]; do sleep 0.01; done; cat p",
      cwd: tmp.dir,
      killGraceMs: 100,
    });
    const escaped = firstPid(r.stdout);
    try {
      expect(r.exitCode).toBe(0);
      expect(r.durationMs).toBeGreaterThanOrEqual(550); // waited grace + 500 ms for the pipe
      expect(r.durationMs).toBeLessThan(3_000);
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
  });

  it('caps each stream and appends a marker saying how much was cut', async () => {
    const r = await runShell({
      command: 'head -c 5000 /dev/zero | tr "\\0" a; head -c 300 /dev/zero | tr "\\0" b >&2',
      cwd: tmp.dir,
      maxOutputBytes: 1000,
    });
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdout).toBe(`${'a'.repeat(1000)}\n[output truncated: 4000 bytes omitted]`);
    expect(r.stderrTruncated).toBe(false);
    expect(r.stderr).toBe('b'.repeat(300));
    expect(r.exitCode).toBe(0);
  });

  it('does not split a multi-byte character at the cap', async () => {
    const file = path.join(tmp.dir, 'euro.txt');
    fs.writeFileSync(file, '€€€'); // 3 bytes each
    const r = await runShell({ command: `cat ${file}`, cwd: tmp.dir, maxOutputBytes: 4 });
    expect(r.stdout).toBe('€\n[output truncated: 6 bytes omitted]');
    expect(completeUtf8Length(Buffer.from('a€', 'utf8').subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(Buffer.from('a€', 'utf8'))).toBe(4);
  });

  it('aborts via the signal, killing the tree', async () => {
    const controller = new AbortController();
    const pidFile = path.join(tmp.dir, 'pid');
    const pending = runShell({ command: `sleep 30 & echo $! > ${pidFile}; wait`, cwd: tmp.dir, signal: controller.signal });
    // Abort once the command is certainly running: it has written its grandchild's pid.
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').endsWith('\n'), { what: 'pid file' });
    const grandchild = firstPid(fs.readFileSync(pidFile, 'utf8'));
    controller.abort();
    const r = await pending;
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: 'SIGTERM' });
    await waitFor(() => !isAlive(grandchild), { what: `grandchild ${grandchild} to die` });
  });

  it('returns at once when the signal is already aborted', async () => {
    const marker = path.join(tmp.dir, 'ran');
    const r = await runShell({ command: `touch ${marker}`, cwd: tmp.dir, signal: AbortSignal.abort() });
    expect(r.aborted).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('validates its input', async () => {
    await expect(runShell({ command: '', cwd: tmp.dir })).rejects.toThrow(UsageError);
    await expect(runShell({ command: '   ', cwd: tmp.dir })).rejects.toThrow(/command must be a non-empty string/);
    for (const timeoutMs of [0, -1, 1.5, 3_600_001, Number.NaN]) {
      await expect(runShell({ command: 'true', cwd: tmp.dir, timeoutMs })).rejects.toThrow(/timeoutMs must be an integer from 1 to 3600000/);
    }
    await expect(runShell({ command: 'true', cwd: tmp.dir, maxOutputBytes: -1 })).rejects.toThrow(/maxOutputBytes/);
    await expect(runShell({ command: 'true', cwd: path.join(tmp.dir, 'missing') })).rejects.toThrow(/does not exist/);
    fs.writeFileSync(path.join(tmp.dir, 'f'), '');
    await expect(runShell({ command: 'true', cwd: path.join(tmp.dir, 'f') })).rejects.toThrow(/not a directory/);
  });
});
