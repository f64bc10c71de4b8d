import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLocalCommand } from '../../src/agent/command.js';
import { INSTANCE_ID, childEnv } from '../../src/proc/env.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from './proc.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-cmd-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const readPid = (name: string) => () => {
  const f = path.join(dir, name);
  const text = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : '';
  return text ? Number(text) : undefined;
};

describe('runLocalCommand', () => {
  it('runs bash in the cwd with stdin closed', async () => {
    const r = await runLocalCommand('pwd; read line || echo "eof"; [[ 1 == 1 ]] && echo bash', { cwd: dir, timeoutMs: 5000 });
    expect(r).toMatchObject({ exitCode: 0, signal: null, output: `${dir}\neof\nbash\n`, truncated: false, timedOut: false, aborted: false });
  });

  it('kills the whole process group on timeout', async () => {
    const r = await runLocalCommand('sleep 30 & echo $! > bg.pid; wait', { cwd: dir, timeoutMs: 300 });
    expect(r).toMatchObject({ exitCode: null, timedOut: true });
    const pid = readPid('bg.pid')()!;
    await waitFor(() => !isAlive(pid), { timeout: 3000, what: 'the background sleep to die' });
  });

  it('kills the group at once on abort', async () => {
    const controller = new AbortController();
    const running = runLocalCommand('sleep 30 & echo $! > bg.pid; wait', { cwd: dir, timeoutMs: 60_000, signal: controller.signal });
    const pid = await waitFor(readPid('bg.pid'), { what: 'the command to start' });
    const t0 = Date.now();
    controller.abort();
    const r = await running;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ aborted: true, signal: 'SIGKILL' });
    await waitFor(() => !isAlive(pid), { timeout: 3000, what: 'the background sleep to die' });
  });

  it('does not wait for background jobs that outlive the shell, and kills them', async () => {
    const r = await runLocalCommand('sleep 30 & echo $! > bg.pid; echo done', { cwd: dir, timeoutMs: 60_000 });
    expect(r).toMatchObject({ exitCode: 0, output: 'done\n', timedOut: false });
    await waitFor(() => !isAlive(readPid('bg.pid')()!), { timeout: 3000, what: 'the background sleep to die' });
  });

  it('keeps the head and the tail of long output', async () => {
    const r = await runLocalCommand('echo START; head -c 200000 /dev/zero | tr "\\0" x; echo; echo END', {
      cwd: dir,
      timeoutMs: 5000,
      maxOutputBytes: 1000,
    });
    expect(r.truncated).toBe(true);
    expect(r.output.startsWith('START\n')).toBe(true);
    expect(r.output.endsWith('x\nEND\n')).toBe(true);
    expect(r.output).toMatch(/\[\.\.\. \d+ bytes of output omitted \.\.\.\]/);
    expect(r.output.length).toBeLessThan(1100);
  });

  it('hides tether settings and secrets from commands', async () => {
    // The one child environment (proc/env.ts): the server's TETHER_* dropped, only its instance marker added.
    expect(childEnv({ base: { PATH: '/bin', TETHER_MODEL_API_KEY: 'sk', TETHER_TOKEN: 't' } })).toEqual({ PATH: '/bin', TETHER_INSTANCE: INSTANCE_ID });
    process.env.TETHER_MODEL_API_KEY = 'sk-must-not-leak';
    try {
      const r = await runLocalCommand('env', { cwd: dir, timeoutMs: 5000 });
      expect(r.output).not.toContain('sk-must-not-leak');
      expect(r.output).toContain('PATH=');
    } finally {
      delete process.env.TETHER_MODEL_API_KEY;
    }
  });

  it('reports a missing cwd instead of throwing', async () => {
    const r = await runLocalCommand('true', { cwd: path.join(dir, 'missing'), timeoutMs: 5000 });
    expect(r.exitCode).toBeNull();
    expect(r.output).toContain('failed to start');
  });
});
