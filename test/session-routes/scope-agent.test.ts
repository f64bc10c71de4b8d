// An agent run in a session of a scoped token, through the real HTTP flow: the session starts in
// the scope, the tools reach what lies inside and nothing outside, and run_command runs there.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createToken } from '../../src/auth/token-admin.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let model: FakeModel;
let scoped: string;

beforeAll(async () => {
  model = await startFakeModel();
  s = await startTestServer({ registrars: await productionRegistrars() });
  fs.mkdirSync(path.join(s.project, 'app'));
  fs.mkdirSync(path.join(s.project, 'secret'));
  fs.writeFileSync(path.join(s.project, 'app', 'a.txt'), 'inside\n');
  fs.writeFileSync(path.join(s.project, 'secret', 'k.txt'), 'SECRET-agent\n');
  fs.symlinkSync('../secret', path.join(s.project, 'app', 'out'));
  const admin = (await s.token()).token;
  const r = await s.fetch('/config', {
    method: 'PATCH',
    token: admin,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ modelUrl: model.baseURL, model: 'test-model', apiKey: 'sk-test' }),
  });
  expect(r.status).toBe(200);
  scoped = (
    await createToken({ name: 'colleague', permissions: ['read', 'write', 'execute'], expiresAt: null, scopes: [path.join(s.project, 'app')] }, s.env.tokenFile)
  ).token;
}, 60_000);
afterAll(async () => {
  await s?.close();
  await model?.close();
});

it('a scoped token’s session starts in its scope, and its agent reaches nothing outside it', async () => {
  const post = async (p: string, body: unknown) =>
    (await s.fetch(p, { method: 'POST', token: scoped, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
  const session = await post('/session', {});
  expect(session.directory).toBe(path.join(s.project, 'app'));
  model.reply(
    {
      toolCalls: [
        { name: 'read_file', args: { path: 'a.txt' } },
        { name: 'read_file', args: { path: '../secret/k.txt' } },
        { name: 'read_file', args: { path: 'out/k.txt' } },
        { name: 'list_files', args: { path: '..' } },
        { name: 'write_file', args: { path: 'out/planted.txt', content: 'x' } },
        { name: 'run_command', args: { command: 'pwd' } },
      ],
    },
    { text: ['done'] },
  );
  const reply = await post(`/session/${session.id}/message`, { text: 'look around' });
  expect(reply.status).toBe('completed');
  // Tools run concurrently: pair each result with its call.
  const parts = reply.parts as { type: string; data: any }[];
  const calls = new Map(parts.filter((p) => p.type === 'tool_call').map((p) => [p.data.toolCallId, `${p.data.toolName} ${JSON.stringify(p.data.input)}`]));
  const out = Object.fromEntries(parts.filter((p) => p.type === 'tool_result').map((p) => [calls.get(p.data.toolCallId), p.data.output]));
  expect(out['read_file {"path":"a.txt"}']).toMatchObject({ content: 'inside\n' });
  for (const k of [
    'read_file {"path":"../secret/k.txt"}',
    'read_file {"path":"out/k.txt"}',
    'list_files {"path":".."}',
    'write_file {"path":"out/planted.txt","content":"x"}',
  ]) {
    expect(out[k], k).toHaveProperty('error');
  }
  expect(out['run_command {"command":"pwd"}']).toMatchObject({ exitCode: 0, output: `${path.join(s.project, 'app')}\n` });
  expect(JSON.stringify(reply)).not.toContain('SECRET-agent');
  expect(fs.readdirSync(path.join(s.project, 'secret'))).toEqual(['k.txt']);
});
