// The real `tether serve` with only 256 file descriptors: 300 connections that send half a request
// and stall must not keep a valid client out (they used to exhaust the descriptors, so the valid
// request was never even accepted).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

let t: TempEnv;
let child: ChildProcess | undefined;
const sockets: net.Socket[] = [];
beforeEach(() => {
  t = tempEnv();
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  t.cleanup();
});

describe('pre-auth connection exhaustion', () => {
  it('with ulimit -n 256, 300 idle half-sent requests do not stop a valid request', async () => {
    const created = await runCli(['auth', 'token', 'create', '--json', '--permissions', 'read'], t.env);
    const token = JSON.parse(created.stdout).token as string;
    child = spawn('sh', ['-c', `ulimit -n 256 && exec "${process.execPath}" "${BIN}" serve --port 0 --project "${t.root}"`], {
      env: t.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 15_000, what: `serve to listen (stderr: ${err})` });
    const port = Number(new URL(url).port);
    const pid = child.pid!;
    expect(fs.readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/Max open files\s+256\s/);

    const closedByServer: boolean[] = [];
    await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => {
              s.write('GET /auth/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stall: ');
              resolve();
            });
            closedByServer[i] = false;
            s.on('close', () => (closedByServer[i] = true));
            s.on('error', () => resolve());
            sockets.push(s);
          }),
      ),
    );

    const t0 = Date.now();
    const r = await fetch(`${url}/auth/whoami`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(5000);
    // The server stayed under its descriptor limit by closing the oldest stalled sockets.
    expect(fs.readdirSync(`/proc/${pid}/fd`).length).toBeLessThan(256);
    await waitFor(() => closedByServer.filter(Boolean).length >= 300 - 128, { what: 'oldest stalled sockets closed' });
    // And it still serves afterwards.
    expect((await fetch(`${url}/health`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    expect(err).toMatch(/"event":"connections.limited"/);
  }, 60_000);
});
