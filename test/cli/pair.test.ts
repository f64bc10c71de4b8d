// `tether pair` against a running server: the link and its QR code, waiting for the device, Ctrl-C
// cancelling the code, the flags, and refusals. The server runs in this process on a fake pairing
// clock; the CLI is the built one (npm run build first).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PAIRING_TTL_MS } from '../../src/auth/pairing.js';
import { pairingRequest } from '../../src/cli/pair.js';
import { BIN, runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
const clock = { t: Date.now() };
const children: ChildProcess[] = [];
beforeEach(async () => {
  clock.t = Date.now();
  s = await startTestServer({ pairing: { now: () => clock.t } });
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await s.close();
});

function start(token: string, args: string[] = [], cwd?: string) {
  const child = spawn(process.execPath, [BIN, 'pair', ...args], {
    cwd,
    env: { ...s.env.env, TETHER_URL: s.url, TETHER_TOKEN: token },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited };
}

const redeem = (code: string) =>
  fetch(`${s.url}/auth/pair`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'curl/8' }, body: JSON.stringify({ code }) });

describe('tether pair', () => {
  it('--json: the link, then the outcome once the device has paired', async () => {
    const { token } = await s.token(['read', 'write', 'execute'], { name: 'laptop' });
    const p = start(token, ['--json', '--permissions', 'read,write', '--name', 'phone']);
    const first = await waitFor(() => p.out.stdout.includes('\n') && JSON.parse(p.out.stdout.split('\n')[0]), { what: 'the link line' });
    expect(first).toMatchObject({ id: expect.stringMatching(/^pair_/), grant: { name: 'phone', permissions: ['read', 'write'] } });
    const m = new RegExp(`^${s.url.replace(/[.]/g, '\\.')}/pair#([A-Za-z0-9_-]{22})$`).exec(first.link);
    expect(m, first.link).not.toBeNull();
    expect((await redeem(m![1])).status).toBe(200);
    expect(await p.exited).toBe(0);
    const last = JSON.parse(p.out.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({ id: first.id, state: 'paired', device: { name: 'phone', id: expect.stringMatching(/^tok_/) } });
  });

  it('prints the link and the same link as a QR code, says when the device has paired', async () => {
    const { token } = await s.token();
    const p = start(token);
    const link = await waitFor(() => /http:\/\/\S+\/pair#[A-Za-z0-9_-]{22}/.exec(p.out.stdout)?.[0], { what: 'the link' });
    await waitFor(() => p.out.stdout.includes('Waiting for the device'), { what: 'the waiting line' });
    // Not a terminal here, so the QR code is drawn in plain blocks; it encodes exactly the link.
    expect(p.out.stdout).toContain((await QRCode.toString(link, { type: 'utf8' })).trimEnd());
    expect(p.out.stdout).toMatch(/permissions: read, write, execute/);
    // stderr is its own pipe: it may arrive after stdout's lines.
    await waitFor(() => /loopback address, which only this machine can open/.test(p.out.stderr), { what: 'the loopback warning on stderr' });
    expect((await redeem(link.split('#')[1])).status).toBe(200);
    expect(await p.exited).toBe(0);
    expect(p.out.stdout).toMatch(/Paired: curl \(tok_[0-9a-z]{10}\)\. It is listed by `tether auth token list`/);
  });

  it('Ctrl-C cancels the code: the link no longer works', async () => {
    const { token } = await s.token();
    const p = start(token, ['--json']);
    const first = await waitFor(() => p.out.stdout.includes('\n') && JSON.parse(p.out.stdout.split('\n')[0]), { what: 'the link line' });
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(1);
    expect(JSON.parse(p.out.stdout.trim().split('\n').at(-1)!)).toMatchObject({ state: 'cancelled' });
    const r = await redeem(first.link.split('#')[1]);
    expect(r.status).toBe(410);
  });

  it('a code nobody uses expires after 5 minutes (fake clock): one clear line, exit 1', async () => {
    const { token } = await s.token();
    const p = start(token);
    await waitFor(() => p.out.stdout.includes('Waiting for the device'), { what: 'the waiting line' });
    clock.t += PAIRING_TTL_MS;
    expect(await p.exited).toBe(1);
    expect(p.out.stderr).toMatch(/tether: the pairing code expired \(5 minutes\) before a device used it; run `tether pair` again/);
  });

  it('a token cannot pair a device with more than it holds', async () => {
    const { token } = await s.token(['read', 'write']);
    const r = await runCli(['pair', '--permissions', 'all'], { ...s.env.env, TETHER_URL: s.url, TETHER_TOKEN: token });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/this token lacks execute permission, so it cannot pair a device with it/);
    expect(s.server.ctx.pairing!.codes.pendingCount).toBe(0);
  });

  it('bad flags are usage errors (exit 2) before anything is sent', async () => {
    const { token } = await s.token();
    const env = { ...s.env.env, TETHER_URL: s.url, TETHER_TOKEN: token };
    for (const [args, message] of [
      [['--name', 'has space'], /invalid --name "has space"/],
      [['--permissions', 'admin'], /unknown permission "admin"/],
      [['--expires', 'yesterday'], /cannot understand expiry "yesterday"/],
    ] as const) {
      const r = await runCli(['pair', ...args], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(s.server.ctx.pairing!.codes.pendingCount).toBe(0);
  });

  it('--scope: a relative directory is taken from here and resolved by the server to the real path of an existing directory', async () => {
    const dir = path.join(s.project, 'sub');
    fs.mkdirSync(dir);
    fs.symlinkSync(dir, path.join(s.project, 'alias'));
    expect(pairingRequest({ scope: ['sub', '/abs'] }, s.project).scopes).toEqual([dir, '/abs']);
    const { token } = await s.token();
    const p = start(token, ['--json', '--scope', 'alias'], s.project);
    const first = await waitFor(() => p.out.stdout.includes('\n') && JSON.parse(p.out.stdout.split('\n')[0]), { what: 'the link line' });
    expect(first.grant.scopes).toEqual([dir]);
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(1);
    const bad = start(token, ['--scope', 'sub', '--scope', 'nope'], s.project);
    expect(await bad.exited).toBe(1);
    expect(bad.out.stderr).toMatch(/scope \S+\/nope does not exist on the server/);
  });
});
