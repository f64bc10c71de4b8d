// What a terminal starts with: the one child environment (proc/env.ts), so the server's TETHER_*
// variables (the model API key among them) are not simply sitting in every terminal's `env`.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PtyManager } from '../../src/pty/index.js';
import { INSTANCE_ID } from '../../src/proc/env.js';
import { trackedProcessSessions } from '../../src/proc/registry.js';
import { bash, recorder, script, tempProject, waitFor } from './helpers.js';

let project: string;
let manager: PtyManager;
const saved = { ...process.env };

beforeEach(() => {
  project = tempProject();
  manager = new PtyManager({ projectDir: project, killGraceMs: 200 });
  process.env.TETHER_MODEL_API_KEY = 'sk-terminal-must-not-see';
  process.env.TETHER_TOKEN = 'tether_server_side_token';
  process.env.TMUX = '/tmp/tmux-server-socket';
});

afterEach(async () => {
  for (const k of ['TETHER_MODEL_API_KEY', 'TETHER_TOKEN', 'TMUX']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  expect((await manager.disposeAll()).remaining).toEqual([]);
  fs.rmSync(project, { recursive: true, force: true });
});

async function envOf(extra: Record<string, string> = {}): Promise<string[]> {
  const info = await manager.create(script('env; echo ENV-DONE', { env: extra }));
  const client = recorder();
  manager.attach(info.id, client);
  await waitFor(() => client.exit, { timeout: 5000, what: 'env to finish' });
  return client.text().split(/\r?\n/);
}

describe('terminal environment', () => {
  it("has none of the server's TETHER_* variables, only the instance marker", async () => {
    const lines = await envOf();
    expect(lines).toContain('ENV-DONE');
    expect(lines.join('\n')).not.toContain('sk-terminal-must-not-see');
    expect(lines.join('\n')).not.toContain('tether_server_side_token');
    expect(lines.filter((l) => l.startsWith('TETHER_'))).toEqual([`TETHER_INSTANCE=${INSTANCE_ID}`]);
    // Still the user's environment otherwise, minus the server's own terminal's variables.
    expect(lines).toContain(`PATH=${process.env.PATH}`);
    expect(lines.some((l) => l.startsWith('TMUX='))).toBe(false);
    expect(lines).toContain('TERM=xterm-256color');
  });

  it("takes the caller's additions, TETHER_* names included, but not a forged instance marker", async () => {
    const lines = await envOf({ TETHER_TOKEN: 'caller-supplied', TETHER_INSTANCE: 'forged', FOO: 'bar' });
    expect(lines).toContain('TETHER_TOKEN=caller-supplied');
    expect(lines).toContain('FOO=bar');
    expect(lines).toContain(`TETHER_INSTANCE=${INSTANCE_ID}`);
    expect(lines.join('\n')).not.toContain('forged');
    expect(lines.join('\n')).not.toContain('sk-terminal-must-not-see');
  });

  it("records each terminal's session in the process registry until it has ended", async () => {
    const info = await manager.create(bash());
    expect(trackedProcessSessions()).toContainEqual(expect.objectContaining({ sid: info.pid, kind: 'terminal', startTime: expect.any(Number) }));
    await manager.kill(info.id);
    expect(trackedProcessSessions().some((g) => g.sid === info.pid)).toBe(false);
  });
});
