import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSession } from '../../src/server/routes/session.js';
import { runCli } from '../helpers/cli.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let model: FakeModel;
let token: string;
beforeAll(async () => {
  s = await startTestServer({ registrars: [registerSession] });
  model = await startFakeModel();
  token = (await s.token()).token;
});
afterAll(async () => {
  await s.close();
  await model.close();
});

const run = (args: string[], env: Record<string, string> = {}) => runCli(['run', '--url', s.url, ...args], { ...s.env.env, TETHER_TOKEN: token, ...env });

describe('tether run', () => {
  it('--shell "echo hi" prints hi, says which session it made, and exits 0', async () => {
    const r = await run(['--shell', 'echo hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toMatch(/session ses_\S+ \(continue it with --session ses_\S+\)/);
  });

  it('--shell exits with the command exit code and passes stderr through', async () => {
    const r = await run(['--shell', 'echo oops >&2; exit 7']);
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/oops/);
  });

  it('--shell with a timeout exits 124', async () => {
    const r = await run(['--shell', 'sleep 5', '--timeout', '300']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/timed out/);
  });

  it('without a provider, one clear line naming the settings', async () => {
    const r = await run(['hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/modelUrl|TETHER_MODEL_URL/);
  });

  it('a message prints the streamed reply from the model; --session continues the same session', async () => {
    const cfg = await s.fetch('/config', {
      method: 'PATCH',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ modelUrl: model.baseURL, model: 'fake', apiKey: 'k' }),
    });
    expect(cfg.status).toBe(200);
    model.reply({ text: ['Hello', ', wor', 'ld!'] });
    const r = await run(['say hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello, world!\n');
    const id = /session (ses_\S+)/.exec(r.stderr)![1];
    model.reply({ text: ['again'] });
    const r2 = await run(['--session', id, 'once more']);
    expect(r2.stdout).toBe('again\n');
    expect(r2.stderr).not.toMatch(/continue it with/);
    const msgs = await (await s.fetch(`/session/${id}/message`, { token })).json();
    expect(msgs.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    // The second request carried the first exchange as history.
    expect(JSON.stringify(model.requests.at(-1)!.body.messages)).toMatch(/say hello/);
  });

  it('a token without execute gets one clear 403 line', async () => {
    const { token: rw } = await s.token(['read', 'write']);
    const r = await run(['--shell', 'echo hi'], { TETHER_TOKEN: rw });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(`this token lacks execute; create one with \`${escapeRe(hintPrefix())} auth token create --permissions read,write,execute\``),
    );
  });

  it('usage errors exit 2', async () => {
    expect((await run([])).code).toBe(2);
    expect((await run(['msg', '--shell', 'ls'])).code).toBe(2);
    expect((await run(['--shell', 'ls', '--timeout', 'soon'])).code).toBe(2);
  });
});
