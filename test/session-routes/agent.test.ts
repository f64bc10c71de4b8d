import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { createSession, isAlive, openEvents, openSse, setProvider, startHarness, waitFor, type Harness, type SseStream } from './helpers.js';

// The agent through the real HTTP flow, against an OpenAI-compatible server started in the test.

const KEY = 'sk-test-SECRET-key-123456';

let h: Harness;
let model: FakeModel;
let rwx: { token: string; id: string };
let watcher: SseStream | undefined;

beforeEach(async () => {
  for (const k of ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY']) delete process.env[k];
  model = await startFakeModel();
  h = await startHarness();
  rwx = await h.token();
  await setProvider(h, rwx.token, model.baseURL, KEY);
});

afterEach(async () => {
  watcher?.close();
  watcher = undefined;
  await h.close();
  await model.close();
});

async function watch(): Promise<SseStream> {
  watcher = await openEvents(h, (await h.token(['read', 'execute'])).token);
  return watcher;
}

const messages = async (sessionId: string) => (await h.call('GET', `/session/${sessionId}/message`, { token: rwx.token })).body.messages as any[];
const partsOf = (m: any) => m.parts.map((p: any) => ({ type: p.type, data: p.data }));

describe('POST /session/:id/message', () => {
  it('stores the prompt and the streamed reply (text coalesced), and publishes the parts on /event', async () => {
    const s = await createSession(h, rwx.token);
    const events = await watch();
    model.reply({ text: ['Hel', 'lo, ', 'world'] });

    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'say hello' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: 'assistant', status: 'completed', error: null, tokenId: rwx.id, sessionId: s.id });
    expect(partsOf(r.body)).toEqual([{ type: 'text', data: { text: 'Hello, world' } }]);

    const stored = await messages(s.id);
    expect(stored.map((m) => [m.role, m.status, m.tokenId])).toEqual([
      ['user', 'completed', rwx.id],
      ['assistant', 'completed', rwx.id],
    ]);
    expect(partsOf(stored[0])).toEqual([{ type: 'text', data: { text: 'say hello' } }]);
    expect(stored[1]).toEqual(r.body);

    // The provider got the key in its header, the model name, and the prompt.
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    expect(model.requests[0].body.model).toBe('test-model');
    expect(model.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: 'say hello' });

    await events.waitFor((e) => e.data.type === 'message.completed' && e.data.properties.messageId === r.body.id, 'message.completed');
    const mine = events.events.filter((e) => e.data.properties?.sessionId === s.id).map((e) => e.data);
    expect(mine.map((e) => e.type)).toEqual([
      'message.created',
      'message.created',
      'message.part',
      'message.part.delta',
      'message.part.delta',
      'message.part.updated',
      'message.completed',
    ]);
    const partId = r.body.parts[0].id;
    expect(mine[2]!.properties.part).toMatchObject({ id: partId, type: 'text', data: { text: 'Hel' } });
    expect(mine[3]!.properties).toEqual({ sessionId: s.id, messageId: r.body.id, partId, offset: 3, text: 'lo, ' });
    expect(mine[4]!.properties).toEqual({ sessionId: s.id, messageId: r.body.id, partId, offset: 7, text: 'world' });
    expect(mine[5]!.properties.part).toMatchObject({ id: partId, data: { text: 'Hello, world' } });
    expect(mine[6]!.properties).toMatchObject({ status: 'completed' });

    // A second prompt sends the conversation so far.
    model.reply({ text: ['again'] });
    const r2 = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'and again' } });
    expect(r2.body.status).toBe('completed');
    const sent = model.requests[1].body.messages.filter((m: any) => m.role !== 'system');
    expect(sent).toEqual([
      { role: 'user', content: 'say hello' },
      { role: 'assistant', content: 'Hello, world' },
      { role: 'user', content: 'and again' },
    ]);
  });

  it('runs a tool-call round trip that really reads and edits a file in the session directory', async () => {
    fs.mkdirSync(path.join(h.project, 'app'));
    fs.writeFileSync(path.join(h.project, 'app', 'notes.txt'), 'hello world\n');
    const s = await createSession(h, rwx.token, { directory: 'app' });
    const events = await watch();
    model.reply(
      { toolCalls: [{ id: 'call_read', name: 'read_file', args: { path: 'notes.txt' } }] },
      {
        text: ['I will edit it.'],
        toolCalls: [{ id: 'call_edit', name: 'edit_file', args: { path: 'notes.txt', old_string: 'world', new_string: 'tether' } }],
      },
      { text: ['Done: ', 'replaced world.'] },
    );
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'replace world with tether in notes.txt' } });
    expect(r.body.status).toBe('completed');
    expect(fs.readFileSync(path.join(h.project, 'app', 'notes.txt'), 'utf8')).toBe('hello tether\n');

    expect(partsOf(r.body)).toEqual([
      { type: 'tool_call', data: { toolCallId: 'call_read', toolName: 'read_file', input: { path: 'notes.txt' } } },
      {
        type: 'tool_result',
        data: {
          toolCallId: 'call_read',
          toolName: 'read_file',
          isError: false,
          output: expect.objectContaining({ path: 'notes.txt', content: 'hello world\n' }),
        },
      },
      { type: 'text', data: { text: 'I will edit it.' } },
      { type: 'tool_call', data: { toolCallId: 'call_edit', toolName: 'edit_file', input: { path: 'notes.txt', old_string: 'world', new_string: 'tether' } } },
      {
        type: 'tool_result',
        data: { toolCallId: 'call_edit', toolName: 'edit_file', isError: false, output: { path: 'notes.txt', replacements: 1, line: 1 } },
      },
      { type: 'text', data: { text: 'Done: replaced world.' } },
    ]);
    // The model saw the file's content as the tool result.
    const toolMsg = model.requests[1].body.messages.find((m: any) => m.role === 'tool');
    expect(toolMsg.content).toContain('hello world');
    expect(model.requests).toHaveLength(3);

    await events.waitFor((e) => e.data.type === 'message.completed' && e.data.properties.messageId === r.body.id, 'completion');
    const partTypes = events.events.filter((e) => e.data.type === 'message.part').map((e) => e.data.properties.part.type);
    expect(partTypes).toEqual(['tool_call', 'tool_result', 'text', 'tool_call', 'tool_result', 'text']);
  });

  it('streams the run to the caller with Accept: text/event-stream', async () => {
    const s = await createSession(h, rwx.token);
    model.reply({ text: ['str', 'eam', 'ed'] });
    const stream = await openSse(`${h.url}/session/${s.id}/message`, { method: 'POST', token: rwx.token, body: { text: 'stream it' } });
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/text\/event-stream/);
    await stream.ended;
    expect(stream.events.map((e) => e.event)).toEqual([
      'message.created',
      'message.created',
      'message.part',
      'message.part.delta',
      'message.part.delta',
      'message.part.updated',
      'message.completed',
      'done',
    ]);
    for (const e of stream.events) expect(e.data.type).toBe(e.event);
    expect(stream.events[0].data.properties.message).toMatchObject({ role: 'user', parts: [{ data: { text: 'stream it' } }] });
    expect(stream.events.filter((e) => e.event === 'message.part.delta').map((e) => e.data.properties.text)).toEqual(['eam', 'ed']);
    const final = stream.events.at(-1)!.data.properties.message;
    expect(final).toMatchObject({ role: 'assistant', status: 'completed', parts: [{ type: 'text', data: { text: 'streamed' } }] });
    expect((await messages(s.id))[1]).toEqual(final);
  });

  it('answers 503 no_provider naming the settings when no model is configured, recording nothing', async () => {
    const s = await createSession(h, rwx.token);
    expect((await h.call('PATCH', '/config', { token: rwx.token, body: { modelUrl: null, model: null, apiKey: null } })).status).toBe(200);
    for (const accept of ['application/json', 'text/event-stream']) {
      const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hi' }, headers: { accept } });
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('no_provider');
      // Two short lines since issue 12: what is missing, and what fixes it.
      expect(r.body.error.message).toBe(
        'This server has no model configured: modelUrl and model are not set.\n' +
          'Set it on the Settings page, or run: tether config set modelUrl http://127.0.0.1:11434/v1 && tether config set model NAME',
      );
    }
    expect(await messages(s.id)).toEqual([]);
    expect(model.requests).toHaveLength(0);

    // The environment works too.
    process.env.TETHER_MODEL_URL = model.baseURL;
    process.env.TETHER_MODEL = 'env-model';
    try {
      model.reply({ text: ['from env'] });
      const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hi' } });
      expect(r.body).toMatchObject({ status: 'completed', parts: [{ data: { text: 'from env' } }] });
      expect(model.requests[0].body.model).toBe('env-model');
    } finally {
      delete process.env.TETHER_MODEL_URL;
      delete process.env.TETHER_MODEL;
    }
  });

  it('refuses a concurrent prompt with 409 and aborts a slow model stream', async () => {
    const s = await createSession(h, rwx.token);
    model.reply({ hang: true, text: ['thinking about it'] });
    const first = h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'take your time' } });
    await waitFor(async () => (await messages(s.id)).find((m) => m.role === 'assistant')?.parts.length === 1, { what: 'the first chunk' });

    for (const [p, body] of [
      ['message', { text: 'me too' }],
      ['shell', { command: 'echo me too' }],
    ] as const) {
      const r = await h.call('POST', `/session/${s.id}/${p}`, { token: rwx.token, body });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('session_busy');
    }

    const abort = await h.call('POST', `/session/${s.id}/abort`, { token: rwx.token });
    expect(abort.body).toEqual({ aborted: true });
    const r = await first;
    expect(r.body).toMatchObject({ role: 'assistant', status: 'aborted' });
    expect(r.body.error).toMatch(/^aborted/);
    // What had streamed is kept.
    expect(partsOf(r.body)).toEqual([{ type: 'text', data: { text: 'thinking about it' } }]);
    // The request to the provider was cancelled.
    await waitFor(() => model.openStreams === 0, { what: 'the model stream to close' });
    // Only the refused requests' nothing: user + assistant of the first prompt.
    expect((await messages(s.id)).map((m) => [m.role, m.status])).toEqual([
      ['user', 'completed'],
      ['assistant', 'aborted'],
    ]);
  });

  it('abort stops a command the agent is running', async () => {
    const s = await createSession(h, rwx.token);
    model.reply({ toolCalls: [{ name: 'run_command', args: { command: 'echo $$ > agent-pid; exec sleep 30' } }] });
    model.fallback = () => ({ text: ['should not be asked'] });
    const first = h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'run it' } });
    const pidFile = path.join(h.project, 'agent-pid');
    await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim(), { what: 'the command to start' });
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(true);

    const started = Date.now();
    expect((await h.call('POST', `/session/${s.id}/abort`, { token: rwx.token })).body).toEqual({ aborted: true });
    const r = await first;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.body.status).toBe('aborted');
    expect(r.body.parts[0]).toMatchObject({ type: 'tool_call', data: { toolName: 'run_command' } });
    await waitFor(() => !isAlive(pid), { what: 'the command to be killed' });
    expect(model.requests).toHaveLength(1);
  });

  it('keeps running when the streaming client disconnects; the run finishes and is recorded', async () => {
    const s = await createSession(h, rwx.token);
    model.reply(
      { toolCalls: [{ name: 'run_command', args: { command: 'while [ ! -f go ]; do sleep 0.02; done; echo went' } }] },
      { text: ['finished ', 'anyway'] },
    );
    const before = h.server.ctx.connections.size;
    const stream = await openSse(`${h.url}/session/${s.id}/message`, { method: 'POST', token: rwx.token, body: { text: 'wait for go' } });
    await stream.waitFor((e) => e.event === 'message.part' && e.data.properties.part.type === 'tool_call', 'the tool call');
    // Registered: the run (aborted if its token is revoked) and the stream (closed then).
    expect(h.server.ctx.connections.size).toBe(before + 2);
    stream.close();
    await waitFor(() => h.server.ctx.connections.size === before + 1, { what: 'the server to notice the disconnect' });
    expect((await h.call('GET', `/session/${s.id}`, { token: rwx.token })).body.busy).toBe(true);

    fs.writeFileSync(path.join(h.project, 'go'), '');
    const done = await waitFor(async () => (await messages(s.id)).find((m) => m.role === 'assistant' && m.status !== 'running'), { what: 'the run to finish' });
    expect(done.status).toBe('completed');
    expect(done.parts.map((p: any) => p.type)).toEqual(['tool_call', 'tool_result', 'text']);
    expect(done.parts[1].data.output).toMatchObject({ exitCode: 0, output: 'went\n' });
    expect(done.parts[2].data.text).toBe('finished anyway');
    await waitFor(() => h.server.ctx.connections.size === before, { what: 'the run to unregister' });
  });

  it("aborts the run and closes the stream within a second when the caller's token is revoked", async () => {
    const s = await createSession(h, rwx.token);
    const doomed = await h.token();
    model.reply({ hang: true, text: ['partial'] });
    const stream = await openSse(`${h.url}/session/${s.id}/message`, { method: 'POST', token: doomed.token, body: { text: 'hang' } });
    await stream.waitFor((e) => e.event === 'message.part', 'the first part');

    await deleteTokens([doomed.id], h.env.tokenFile);
    const revokedAt = Date.now();
    await waitFor(() => stream.isEnded(), { what: 'the stream to close', timeout: 3000 });
    expect(Date.now() - revokedAt).toBeLessThan(1500);
    const last = stream.events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.properties.error.code).toBe('token_revoked');

    const assistant = await waitFor(async () => (await messages(s.id)).find((m) => m.role === 'assistant' && m.status !== 'running'), {
      what: 'the run to end',
    });
    expect(assistant).toMatchObject({ status: 'aborted', tokenId: doomed.id });
    await waitFor(() => model.openStreams === 0, { what: 'the model stream to close' });
    expect((await h.call('GET', `/session/${s.id}`, { token: rwx.token })).body.busy).toBe(false);
  });

  it('never returns or publishes the API key, even when the provider echoes it', async () => {
    const s = await createSession(h, rwx.token);
    const events = await watch();
    model.reply({ status: 401, message: `Incorrect API key provided: ${KEY}` });
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hi' } });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('error');
    expect(r.body.error).toMatch(/model provider http:\/\/127\.0\.0\.1:\d+\/v1/);
    expect(r.body.error).toContain('[redacted]');
    expect(r.body.parts).toEqual([expect.objectContaining({ type: 'error' })]);

    model.reply({ status: 400, message: `bad request from key ${KEY}` });
    const stream = await openSse(`${h.url}/session/${s.id}/message`, { method: 'POST', token: rwx.token, body: { text: 'again' } });
    await stream.ended;
    expect(stream.events.at(-1)!.data.properties.message.status).toBe('error');

    await events.waitFor(
      (e) =>
        e.data.type === 'message.completed' &&
        e.data.properties.status === 'error' &&
        e.data.properties.messageId === stream.events.at(-1)!.data.properties.message.id,
      'the second failure',
    );
    const bodies = [
      r.text,
      stream.text(),
      events.text(),
      (await h.call('GET', `/session/${s.id}/message`, { token: rwx.token })).text,
      (await h.call('GET', `/session/${s.id}`, { token: rwx.token })).text,
      (await h.call('GET', '/session', { token: rwx.token })).text,
      (await h.call('GET', '/config', { token: rwx.token })).text,
      (await h.call('GET', '/doc', { token: rwx.token })).text,
    ];
    for (const b of bodies) expect(b).not.toContain(KEY);
    expect(events.text()).toContain('[redacted]');
  });

  it('keeps tool paths inside the session directory (.., absolute paths, symlinks)', async () => {
    fs.mkdirSync(path.join(h.project, 'work'));
    fs.writeFileSync(path.join(h.project, 'secret.txt'), 'PROJECT-SECRET');
    const outside = path.join(h.env.root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'outside.txt'), 'OUTSIDE-SECRET');
    fs.symlinkSync('../secret.txt', path.join(h.project, 'work', 'link'));
    fs.symlinkSync(outside, path.join(h.project, 'work', 'linkdir'));
    const s = await createSession(h, rwx.token, { directory: 'work' });

    const calls = [
      { name: 'read_file', args: { path: '../secret.txt' } },
      { name: 'read_file', args: { path: path.join(outside, 'outside.txt') } },
      { name: 'read_file', args: { path: 'link' } },
      { name: 'read_file', args: { path: 'linkdir/outside.txt' } },
      { name: 'list_files', args: { path: '..' } },
      { name: 'write_file', args: { path: '../escaped.txt', content: 'x' } },
      { name: 'write_file', args: { path: 'linkdir/escaped.txt', content: 'x' } },
      { name: 'write_file', args: { path: path.join(outside, 'abs.txt'), content: 'x' } },
      { name: 'edit_file', args: { path: 'link', old_string: 'PROJECT', new_string: 'PWNED' } },
    ];
    model.reply({ toolCalls: calls }, { text: ['could not'] });
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'escape' } });
    expect(r.body.status).toBe('completed');
    const results = r.body.parts.filter((p: any) => p.type === 'tool_result');
    expect(results).toHaveLength(calls.length);
    for (const p of results) {
      expect(p.data.isError, JSON.stringify(p.data)).toBe(true);
      expect(p.data.output.error).toMatch(/outside the allowed directory/);
    }
    expect(r.text).not.toContain('PROJECT-SECRET');
    expect(r.text).not.toContain('OUTSIDE-SECRET');
    expect(fs.readFileSync(path.join(h.project, 'secret.txt'), 'utf8')).toBe('PROJECT-SECRET');
    expect(fs.existsSync(path.join(h.project, 'escaped.txt'))).toBe(false);
    expect(fs.readdirSync(outside)).toEqual(['outside.txt']);
    // The model saw the refusals as tool results.
    const toolMsgs = model.requests[1].body.messages.filter((m: any) => m.role === 'tool');
    expect(toolMsgs).toHaveLength(calls.length);
    for (const m of toolMsgs) expect(m.content).toMatch(/outside the allowed directory/);
  });

  it('a command that moves the session directory and puts a symlink in its place cannot re-root the later tool calls', async () => {
    fs.mkdirSync(path.join(h.project, 'work'));
    const outside = path.join(h.env.root, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'outside.txt'), 'OUTSIDE-SECRET');
    const s = await createSession(h, rwx.token, { directory: 'work' });
    model.reply(
      { toolCalls: [{ name: 'run_command', args: { command: `cd .. && mv work work.moved && ln -s ${outside} work` } }] },
      { toolCalls: [{ name: 'read_file', args: { path: 'outside.txt' } }] },
      { toolCalls: [{ name: 'write_file', args: { path: 'pwned.txt', content: 'x' } }] },
      { text: ['done'] },
    );
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 're-root' } });
    expect(r.body.status).toBe('completed');
    const results = r.body.parts.filter((p: any) => p.type === 'tool_result');
    expect(results.map((p: any) => p.data.isError)).toEqual([false, true, true]);
    for (const p of results.slice(1)) expect(p.data.output.error).toMatch(/was moved or replaced/);
    expect(r.text).not.toContain('OUTSIDE-SECRET');
    expect(fs.readdirSync(outside)).toEqual(['outside.txt']);
    // And the next prompt is refused before anything is recorded.
    const before = (await messages(s.id)).length;
    const again = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'again' } });
    expect([again.status, again.body.error.code]).toEqual([403, 'path_outside_root']);
    expect(await messages(s.id)).toHaveLength(before);
  });

  it('a session directory replaced by a symlink to another directory inside the project: 403 before anything is recorded', async () => {
    fs.mkdirSync(path.join(h.project, 'work'));
    fs.mkdirSync(path.join(h.project, 'elsewhere'));
    const s = await createSession(h, rwx.token, { directory: 'work' });
    fs.renameSync(path.join(h.project, 'work'), path.join(h.project, 'work.moved'));
    fs.symlinkSync('elsewhere', path.join(h.project, 'work'));
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hi' } });
    expect([r.status, r.body.error.code]).toEqual([403, 'session_directory_replaced']);
    expect(await messages(s.id)).toEqual([]);
    expect(model.requests).toEqual([]);
  });

  it('ends with an error at the step limit (agentMaxSteps from the config)', async () => {
    const s = await createSession(h, rwx.token);
    expect((await h.call('PATCH', '/config', { token: rwx.token, body: { agentMaxSteps: 2 } })).status).toBe(200);
    model.fallback = () => ({ toolCalls: [{ name: 'list_files', args: {} }] });
    const r = await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'loop' } });
    expect(model.requests).toHaveLength(2);
    expect(r.body.status).toBe('error');
    expect(r.body.error).toMatch(/step limit \(2 model calls\)/);
    expect(r.body.parts.map((p: any) => p.type)).toEqual(['tool_call', 'tool_result', 'tool_call', 'tool_result']);
  });

  it('gives the model shell commands the user ran as context', async () => {
    const s = await createSession(h, rwx.token);
    await h.call('POST', `/session/${s.id}/shell`, { token: rwx.token, body: { command: 'echo shell-said-this; exit 4' } });
    model.reply({ text: ['seen'] });
    await h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'what did it say?' } });
    const sent = model.requests[0].body.messages.filter((m: any) => m.role !== 'system');
    expect(sent).toHaveLength(1);
    expect(sent[0].role).toBe('user');
    expect(sent[0].content).toContain('$ echo shell-said-this; exit 4');
    expect(sent[0].content).toContain('(exit code 4)');
    expect(sent[0].content).toContain('shell-said-this\n');
    expect(sent[0].content.endsWith('what did it say?')).toBe(true);
  });

  it('saves streamed text while it streams (throttled snapshots, no event per snapshot)', async () => {
    await h.close();
    h = await startHarness({ textSnapshotMs: 0 });
    rwx = await h.token();
    await setProvider(h, rwx.token, model.baseURL, KEY);
    const s = await createSession(h, rwx.token);
    const events = await watch();
    model.reply({ hang: true, text: ['a', 'b', 'c'] });
    const first = h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'abc' } });
    const live = await waitFor(async () => (await messages(s.id)).find((m) => m.role === 'assistant' && m.parts[0]?.data.text === 'abc'), {
      what: 'the snapshot',
    });
    expect(live.status).toBe('running');
    await events.waitFor((e) => e.data.type === 'message.part.delta' && e.data.properties.text === 'c', 'the last delta');
    expect(events.events.some((e) => e.data.type === 'message.part.updated')).toBe(false);
    await h.call('POST', `/session/${s.id}/abort`, { token: rwx.token });
    expect((await first).body).toMatchObject({ status: 'aborted', parts: [{ type: 'text', data: { text: 'abc' } }] });
  });

  it('a deleted session ends its running prompt', async () => {
    const s = await createSession(h, rwx.token);
    model.reply({ hang: true, text: ['...'] });
    const first = h.call('POST', `/session/${s.id}/message`, { token: rwx.token, body: { text: 'hang' } });
    await waitFor(() => model.openStreams === 1, { what: 'the model request' });
    expect((await h.call('DELETE', `/session/${s.id}`, { token: rwx.token })).status).toBe(200);
    const r = await first;
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('session_not_found');
    await waitFor(() => model.openStreams === 0, { what: 'the model stream to close' });
  });
});
