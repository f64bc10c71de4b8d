// `tether run`: which session it uses (one reusable "shell" session per project, --new-session),
// sessions titled by the server, and the model errors: no model in two lines with no session left
// behind; an unreachable model in one line, quickly.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSession } from '../../src/server/routes/session.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const VARS = ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY'];
const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
let s: TestServer;
let token: string;

beforeAll(async () => {
  for (const k of VARS) delete process.env[k];
  s = await startTestServer({ registrars: [registerSession] });
  token = (await s.token()).token;
});
afterAll(async () => {
  await s.close();
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

const env = () => ({ ...s.env.env, TETHER_TOKEN: token });
const run = (args: string[]) => runCli(['run', '--url', s.url, ...args], env());
const sessions = async () => ((await (await s.fetch('/session', { token })).json()) as { sessions: { id: string; title: string; busy: boolean }[] }).sessions;
const patch = (body: unknown) => s.fetch('/config', { method: 'PATCH', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const SESSION_LINE = /^session (ses_\S+) \(continue it with --session \1\)$/m;

describe('tether run: sessions', () => {
  it('--shell reuses the project\'s one "shell" session; --new-session opts out (titled by the server from its command)', async () => {
    const first = await run(['--shell', 'echo one']);
    expect(first.code, first.stderr).toBe(0);
    const id = SESSION_LINE.exec(first.stderr)![1];
    const second = await run(['--shell', 'echo two']);
    expect(second.stdout).toBe('two\n');
    expect(second.stderr).toBe('');
    let list = await sessions();
    expect(list.filter((x) => x.title === 'shell').map((x) => x.id)).toEqual([id]);
    const msgs = (await (await s.fetch(`/session/${id}/message`, { token })).json()) as { messages: unknown[] };
    expect(msgs.messages).toHaveLength(2);

    const own = await run(['--shell', 'echo three', '--new-session']);
    expect(own.code).toBe(0);
    const ownId = SESSION_LINE.exec(own.stderr)![1];
    expect(ownId).not.toBe(id);
    list = await sessions();
    expect(list.find((x) => x.id === ownId)?.title).toBe('echo three');
    expect(list.filter((x) => x.title === 'shell')).toHaveLength(1);
  }, 60_000);

  it('a busy shell session is not waited for: the command runs in another one', async () => {
    const slow = spawnCli(['run', '--url', s.url, '--shell', 'sleep 60'], env());
    const exited = new Promise((resolve) => slow.on('close', resolve));
    const busy = await waitFor(async () => (await sessions()).find((x) => x.title === 'shell' && x.busy), {
      what: 'the shell session to be busy',
      timeout: 20_000,
    });
    const r = await run(['--shell', 'echo meanwhile']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('meanwhile\n');
    expect((await sessions()).filter((x) => x.title === 'shell').length).toBe(2);
    await s.fetch(`/session/${busy.id}/abort`, { method: 'POST', token });
    await exited;
  }, 60_000);
});

describe('tether run: model errors', () => {
  it('without a model: two lines (what is missing, the commands that fix it) and no session left behind', async () => {
    expect((await patch({ modelUrl: null, model: null })).status).toBe(200);
    const before = (await sessions()).length;
    const r = await run(['hello there']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'tether: This server has no model configured: modelUrl and model are not set.\n' +
        "  Fix it (these are the server's settings): tether config set modelUrl http://127.0.0.1:11434/v1 && tether config set model NAME\n",
    );
    expect((await sessions()).length).toBe(before);
    // Only the missing one is named.
    await patch({ modelUrl: 'http://127.0.0.1:11434/v1' });
    const one = await run(['hello']);
    expect(one.stderr).toMatch(
      /^tether: This server has no model configured: model is not set\.\n {2}Fix it \(these are the server's settings\): tether config set model NAME\n$/,
    );
    await patch({ modelUrl: null });
  }, 60_000);

  it('an unreachable model: one message, at once (no retries)', async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((resolve) => srv.close(resolve));
    expect((await patch({ modelUrl: `http://127.0.0.1:${port}/v1`, model: 'm' })).status).toBe(200);
    try {
      const started = Date.now();
      const r = await run(['hello']);
      const elapsed = Date.now() - started;
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(SESSION_LINE);
      expect(lines[1]).toBe(
        `error: cannot reach the model at http://127.0.0.1:${port}/v1: connection refused (is the model server running?). ` +
          'That URL is the server setting modelUrl (see `tether config` or the Settings page)',
      );
      // The AI SDK's retries alone took 6 s (2 s + 4 s of backoff); the CLI's own start-up is the rest.
      expect(elapsed).toBeLessThan(6000);
    } finally {
      await patch({ modelUrl: null, model: null });
    }
  }, 60_000);
});
