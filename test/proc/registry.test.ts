// The process registry: what the server records while it runs, and what it ends when it exits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_ID } from '../../src/proc/env.js';
import { readStat, bootId } from '../../src/proc/procfs.js';
import { RegistryFileSchema, attachDataDir, flushRegistry, registryDir, trackProcessSession, trackedProcessSessions } from '../../src/proc/registry.js';
import { ROOT } from '../helpers/cli.js';
import { isAlive, killSpawned, spawned, startSession, tempData, waitFor } from './helpers.js';

let data: ReturnType<typeof tempData>;
const detachers: (() => Promise<void>)[] = [];
beforeEach(() => {
  data = tempData();
});
afterEach(async () => {
  for (const d of detachers.splice(0)) await d();
  killSpawned();
  data.cleanup();
});

function attach(dir = data.dir, errors: unknown[] = []) {
  const detach = attachDataDir(dir, (e) => errors.push(e));
  detachers.push(detach);
  return detach;
}

const fileOf = (dir: string) => path.join(registryDir(dir), `${INSTANCE_ID}.json`);
const read = (dir: string) => RegistryFileSchema.parse(JSON.parse(fs.readFileSync(fileOf(dir), 'utf8')));

describe('process registry', () => {
  it('writes what is recorded to procs/<instance>.json (0600 in 0700), and removes the file when nothing is left', async () => {
    attach();
    const s = startSession('', null, 'exec sleep 300');
    const release = trackProcessSession(s.sid, 'command');
    await flushRegistry();
    const rec = read(data.dir);
    expect(rec).toEqual({
      version: 1,
      instance: INSTANCE_ID,
      pid: process.pid,
      startTime: readStat(process.pid)!.startTime,
      bootId: bootId(),
      groups: [{ sid: s.sid, startTime: s.startTime, kind: 'command' }],
    });
    expect(fs.statSync(fileOf(data.dir)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(registryDir(data.dir)).mode & 0o777).toBe(0o700);

    release();
    release(); // idempotent
    await flushRegistry();
    expect(fs.existsSync(fileOf(data.dir))).toBe(false);
  });

  it('coalesces a burst of changes, ending with the last state, in every attached directory', async () => {
    const other = tempData();
    try {
      attach();
      attach(other.dir);
      const sessions = Array.from({ length: 20 }, () => startSession('', null, 'exec sleep 300'));
      const releases = sessions.map((s) => trackProcessSession(s.sid, 'terminal'));
      for (const r of releases.slice(0, 15)) r();
      await flushRegistry();
      for (const dir of [data.dir, other.dir]) {
        expect(read(dir).groups.map((g) => g.sid)).toEqual(sessions.slice(15).map((s) => s.sid));
        // No temp files left behind.
        expect(fs.readdirSync(registryDir(dir))).toEqual([`${INSTANCE_ID}.json`]);
      }
      for (const r of releases) r();
      await flushRegistry();
    } finally {
      other.cleanup();
    }
  });

  it('a stale release never removes a later record of the same session id', () => {
    const s = startSession('', null, 'exec sleep 300');
    const first = trackProcessSession(s.sid, 'command');
    const second = trackProcessSession(s.sid, 'terminal');
    first();
    expect(trackedProcessSessions()).toContainEqual(expect.objectContaining({ sid: s.sid, kind: 'terminal' }));
    second();
    expect(trackedProcessSessions().some((g) => g.sid === s.sid)).toBe(false);
  });

  it('reports a directory it cannot write to, without throwing', async () => {
    const blocked = path.join(data.dir, 'blocked');
    fs.writeFileSync(blocked, 'a file where the data directory should be');
    const errors: unknown[] = [];
    attach(blocked, errors);
    const s = startSession('', null, 'exec sleep 300');
    const release = trackProcessSession(s.sid, 'command');
    await flushRegistry();
    expect(errors.length).toBeGreaterThan(0);
    release();
    await flushRegistry();
  });

  it("on process exit, SIGKILLs every recorded session: the agent's commands, shell commands and terminals", async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'proc', 'fixtures', 'exit-child.ts'), data.dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, err).toBe(0);
    expect(out).toBe('ready\n');
    const pids = ['agent.pid', 'shell.pid', 'pty.pid'].map((f) => Number(fs.readFileSync(path.join(data.dir, f), 'utf8')));
    for (const pid of pids) spawned.add(pid);
    for (const pid of pids) await waitFor(() => !isAlive(pid), { timeout: 5000, what: `pid ${pid} to be killed at exit` });
  });
});
