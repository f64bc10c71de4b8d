// A revocation reaches every server on the token file by the time it returns (src/auth/revocation.ts),
// even a server that checked the file an instant before, and a keep-alive connection whose header
// it had already proved. A hand edit, which nothing waits for, is followed within the interval.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STALENESS_MS } from '../../src/auth/revocation.js';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let a: TestServer;
let b: RunningServer;
let agent: http.Agent;
beforeAll(async () => {
  a = await startTestServer();
  // A second server on the same token file (another project), as two `tether serve` would be.
  const project = path.join(a.env.root, 'other');
  fs.mkdirSync(project);
  b = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    projectDir: project,
    auth: true,
    tokenFile: a.env.tokenFile,
    settingsFile: path.join(a.env.configHome, 'tether', 'other.json'),
    log: { log() {} },
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
});
afterAll(async () => {
  agent.destroy();
  await b.close();
  await a.close();
});

function whoami(url: string, token: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/auth/whoami`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

describe('revocation across servers', () => {
  it('once deleteTokens returns, both servers refuse the token on their next request, a proved keep-alive connection included', async () => {
    for (let round = 0; round < 5; round++) {
      const t = await a.token(['read']);
      // Both servers check the file and prove the header on the connection just before the delete.
      expect((await whoami(b.url, t.token)).status).toBe(200);
      expect(await whoami(b.url, t.token)).toEqual({ status: 200, reused: true });
      expect((await a.fetch('/auth/whoami', { token: t.token })).status).toBe(200);
      await deleteTokens([t.id], a.env.tokenFile);
      expect(await whoami(b.url, t.token)).toEqual({ status: 401, reused: true });
      expect((await a.fetch('/auth/whoami', { token: t.token })).status).toBe(401);
    }
  });

  it('a hand edit (no wait) is followed within the interval', async () => {
    const t = await a.token(['read']);
    expect((await whoami(b.url, t.token)).status).toBe(200);
    const data = JSON.parse(fs.readFileSync(a.env.tokenFile, 'utf8')) as { tokens: { id: string }[] };
    data.tokens = data.tokens.filter((r) => r.id !== t.id);
    const tmp = `${a.env.tokenFile}.hand`;
    fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    fs.renameSync(tmp, a.env.tokenFile);
    const edited = performance.now();
    await waitFor(async () => (await whoami(b.url, t.token)).status === 401, { interval: 1, timeout: 5000, what: 'the hand-deleted token refused' });
    // Bounded by the interval plus one request's time; generous for a loaded machine, far below
    // what a bound of seconds (an inotify-less poll) would give.
    expect(performance.now() - edited).toBeLessThan(MAX_STALENESS_MS + 1000);
  });
});
