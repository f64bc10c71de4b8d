// The audit log failing under a real server: an unwritable state directory, a full disk (/dev/full)
// and a deleted state directory never change an authentication decision or stop a request; the
// failure is reported (server log at most once a minute, GET /audit's `log`, and `serve`'s start-up
// warning); the CLI's own line failing is a warning, not a failed command.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempEnv } from '../helpers/env.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { events } from './helpers.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const json = { 'content-type': 'application/json' };

/** What must keep working whatever the audit log does, and the refusals that must stay refusals. */
async function serverStillDecides(s: TestServer): Promise<void> {
  const admin = await s.token(['read', 'write', 'execute']);
  const reader = await s.token(['read']);
  expect((await s.fetch('/auth/whoami', { token: admin.token })).status).toBe(200);
  expect((await s.fetch('/auth/whoami', { token: 'tether_' + 'B'.repeat(28) })).status).toBe(401);
  expect((await s.fetch('/auth/whoami')).status).toBe(401);
  expect((await s.fetch('/config', { method: 'PATCH', token: reader.token, headers: json, body: '{"model":"x"}' })).status).toBe(403);
  expect((await s.fetch('/config', { method: 'PATCH', token: admin.token, headers: json, body: '{"model":"x"}' })).status).toBe(200);
  const ses = await (await s.fetch('/session', { method: 'POST', token: admin.token, headers: json, body: '{}' })).json();
  const run = await s.fetch(`/session/${ses.id}/shell`, { method: 'POST', token: admin.token, headers: json, body: '{"command":"exit 4"}' });
  expect(run.status).toBe(200);
  expect((await run.json()).parts[0].data.exitCode).toBe(4);
  // Repeated failures are still throttled.
  let last = 0;
  for (let i = 0; i < 40 && last !== 429; i++) last = (await s.fetch('/auth/whoami', { token: 'tether_' + 'C'.repeat(28) })).status;
  expect(last).toBe(429);
}

async function auditLog(s: TestServer) {
  const admin = await s.token(['read', 'execute']);
  const r = await s.fetch('/audit', { token: admin.token });
  expect(r.status).toBe(200);
  return (await r.json()).log;
}

describe('the server with a failing audit log', () => {
  it('a state directory that cannot be made: every request is served and decided as before; reported once, and by GET /audit', async () => {
    const blocked = tempEnv();
    cleanups.push(() => blocked.cleanup());
    fs.writeFileSync(path.join(blocked.root, 'not-a-dir'), 'x');
    const s = await startTestServer({ registrars: await productionRegistrars(), audit: { dir: path.join(blocked.root, 'not-a-dir', 'tether') } });
    cleanups.push(() => s.close());
    await serverStillDecides(s);
    const log = await auditLog(s);
    expect(log).toMatchObject({ ok: false, error: expect.stringMatching(/ENOTDIR|EEXIST/) });
    expect(log.lostLines).toBeGreaterThan(10);
    // Loud, but not per event: one report in this minute.
    expect(s.logs.filter((l) => l.event === 'audit.write_failed')).toHaveLength(1);
    expect(s.logs.find((l) => l.event === 'audit.write_failed')).toMatchObject({ level: 'error', error: expect.stringMatching(/ENOTDIR|EEXIST/) });
  });

  it('a full disk (/dev/full): the same, with ENOSPC', async () => {
    const t = tempEnv();
    cleanups.push(() => t.cleanup());
    const dir = path.join(t.root, 'audit-full');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.symlinkSync('/dev/full', path.join(dir, 'audit.jsonl'));
    const s = await startTestServer({ registrars: await productionRegistrars(), audit: { dir } });
    cleanups.push(() => s.close());
    await serverStillDecides(s);
    expect(await auditLog(s)).toMatchObject({ ok: false, error: expect.stringMatching(/ENOSPC/) });
  });

  it('a state directory deleted while the server runs is made again; nothing is lost', async () => {
    const s = await startTestServer();
    cleanups.push(() => s.close());
    const admin = await s.token(['read', 'write', 'execute']);
    fs.rmSync(s.env.auditDir, { recursive: true });
    expect((await s.fetch('/config', { method: 'PATCH', token: admin.token, headers: json, body: '{"model":"y"}' })).status).toBe(200);
    expect(events(s.env.auditDir).map((e) => e.kind)).toEqual(['config.update']);
    expect((await auditLog(s)).ok).toBe(true);
  });
});

describe('the CLI with a failing audit log', () => {
  it('`auth token create` still creates the token, and warns', async () => {
    const t = tempEnv();
    cleanups.push(() => t.cleanup());
    fs.mkdirSync(t.stateHome, { recursive: true });
    fs.writeFileSync(path.join(t.stateHome, 'tether'), 'not a directory');
    const r = await runCli(['auth', 'token', 'create', '--name', 'still-made', '--json'], t.env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).name).toBe('still-made');
    expect(r.stderr).toMatch(/warning: audit\.write_failed: .*(ENOTDIR|EEXIST)/);
    expect(r.stderr).not.toContain(JSON.parse(r.stdout).token);
  });

  it('`serve` warns at start-up that the audit log cannot be written, and serves', async () => {
    const t = tempEnv();
    cleanups.push(() => t.cleanup());
    const tok = JSON.parse((await runCli(['auth', 'token', 'create', '--json'], t.env)).stdout).token as string;
    fs.rmSync(path.join(t.stateHome, 'tether'), { recursive: true });
    fs.writeFileSync(path.join(t.stateHome, 'tether'), 'not a directory');
    const child = spawnCli(['serve', '--port', '0', '--project', t.root], t.env);
    cleanups.push(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 15_000, what: `serve to listen (stderr: ${err})` });
    expect(err).toMatch(/WARNING: the audit log .*audit\.jsonl cannot be written \(.*(ENOTDIR|EEXIST).*\)\. The server runs/);
    expect((await fetch(`${url}/auth/whoami`, { headers: { authorization: `Bearer ${tok}` } })).status).toBe(200);
  }, 30_000);
});
