// The one runner's own duties, beyond what session/shell.test.ts and agent/command.test.ts check
// through their adapters: the registry, the scrubbed environment, the shell choice, abort grace.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { INSTANCE_ID } from '../../src/proc/env.js';
import { trackedProcessSessions } from '../../src/proc/registry.js';
import { runInGroup, type RunOptions } from '../../src/proc/run.js';
import { isAlive, killSpawned, spawned, tempData, waitFor } from './helpers.js';

let tmp: ReturnType<typeof tempData>;
beforeEach(() => {
  tmp = tempData();
});
afterEach(() => {
  killSpawned();
  tmp.cleanup();
});

async function run(command: string, o: Partial<RunOptions> = {}) {
  let stdout = '';
  const exit = await runInGroup({ command, cwd: tmp.dir, onOutput: (s, c) => (s === 'stdout' ? (stdout += c.toString()) : undefined), ...o });
  return { ...exit, stdout };
}

const pidIn = async (file: string) => {
  const p = path.join(tmp.dir, file);
  const pid = await waitFor(() => fs.existsSync(p) && fs.readFileSync(p, 'utf8').endsWith('\n') && Number(fs.readFileSync(p, 'utf8')), {
    what: file,
  });
  spawned.add(pid);
  return pid;
};

describe('runInGroup', () => {
  it("records the command's session while it runs and releases it once the group is gone", async () => {
    const controller = new AbortController();
    const running = run('echo $$ > leader; sleep 300 & wait', { signal: controller.signal });
    const leader = await pidIn('leader');
    expect(trackedProcessSessions()).toContainEqual(expect.objectContaining({ sid: leader, kind: 'command', startTime: expect.any(Number) }));
    controller.abort();
    await running;
    await waitFor(() => !trackedProcessSessions().some((g) => g.sid === leader), { what: 'the record to be released' });
  });

  it('keeps the record until the SIGKILL of a leftover that ignores SIGTERM', async () => {
    // The job does not hold the output pipes, so the run ends as soon as the shell does.
    const r = await run('sh -c \'trap "" TERM; echo $$ > job; exec sleep 300\' >/dev/null 2>&1 & until [ -s job ]; do sleep 0.01; done; echo $$', {
      killGraceMs: 1000,
    });
    const leader = Number(r.stdout.trim());
    const job = await pidIn('job');
    // The shell exited; its job ignored SIGTERM and is still there, so the session stays recorded.
    expect(isAlive(job)).toBe(true);
    expect(trackedProcessSessions().some((g) => g.sid === leader)).toBe(true);
    await waitFor(() => !isAlive(job), { what: 'the SIGKILL after the grace period' });
    await waitFor(() => !trackedProcessSessions().some((g) => g.sid === leader), { what: 'the release' });
  });

  it("scrubs TETHER_* from the environment, the caller's base included, and marks the instance", async () => {
    process.env.TETHER_MODEL_API_KEY = 'sk-runner-must-not-see';
    try {
      const a = await run('env');
      const b = await run('env', { env: { PATH: process.env.PATH, TETHER_MODEL_API_KEY: 'sk-passed-by-mistake', FOO: 'bar' } });
      for (const r of [a, b]) {
        expect(r.stdout).not.toContain('sk-');
        expect(r.stdout.split('\n').filter((l) => l.startsWith('TETHER_'))).toEqual([`TETHER_INSTANCE=${INSTANCE_ID}`]);
      }
      expect(b.stdout).toContain('FOO=bar\n');
    } finally {
      delete process.env.TETHER_MODEL_API_KEY;
    }
  });

  it('runs the configured shell, and refuses one that is not an absolute executable', async () => {
    expect((await run('echo "$0"', { shell: '/bin/sh' })).stdout).toBe('/bin/sh\n');
    for (const shell of ['sh', '/nonexistent/shell', tmp.dir, '']) {
      await expect(run('true', { shell })).rejects.toThrow(UsageError);
    }
    await expect(run('true', { shell: 'bash' })).rejects.toThrow(/shell must be the absolute path of an executable/);
  });

  it('with abortGraceMs 0, an abort is a SIGKILL at once', async () => {
    const controller = new AbortController();
    const running = run("trap '' TERM; echo $$ > leader; sleep 300 & wait", { signal: controller.signal, abortGraceMs: 0, killGraceMs: 10_000 });
    await pidIn('leader');
    const t0 = Date.now();
    controller.abort();
    const r = await running;
    expect(r).toMatchObject({ aborted: true, signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('many commands at once: each recorded and released, none left running', async () => {
    const before = trackedProcessSessions().length;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run(`sleep 0.$((RANDOM % 3)) & echo ${i}`, { timeoutMs: 10_000 })));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
    await waitFor(() => trackedProcessSessions().length === before, { what: 'every record to be released' });
  });
});
