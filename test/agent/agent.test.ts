import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAgent, type AgentPart, type RunAgentOptions } from '../../src/agent/agent.js';
import { resolveProviderSettings } from '../../src/agent/provider.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from './proc.js';

let model: FakeModel;
let tmp: string;
let project: string;

beforeEach(async () => {
  model = await startFakeModel();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-agent-'));
  project = path.join(tmp, 'project');
  fs.mkdirSync(project);
});

afterEach(async () => {
  await model.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function run(overrides: Partial<RunAgentOptions> = {}) {
  const parts: AgentPart[] = [];
  const promise = runAgent({
    settings: resolveProviderSettings({ modelUrl: model.baseURL, model: 'test-model', apiKey: 'sk-test-secret' }, {}),
    directory: project,
    history: [],
    prompt: 'do the thing',
    signal: new AbortController().signal,
    maxRetries: 0,
    onPart: (p) => parts.push(p),
    ...overrides,
  });
  return { parts, promise };
}

/** The `role: tool` messages the model received in request `i`. */
function toolMessages(i: number): Array<{ tool_call_id: string; content: string }> {
  return model.requests[i].body.messages.filter((m: { role: string }) => m.role === 'tool');
}

describe('runAgent', () => {
  it('streams a text reply in chunks and assembles it', async () => {
    model.reply({ text: ['Hel', 'lo, ', 'world'] });
    const { parts, promise } = run({
      history: [
        { role: 'user', content: 'earlier question' },
        { role: 'assistant', content: 'earlier answer' },
      ],
    });
    const result = await promise;

    expect(result).toEqual({ text: 'Hello, world', steps: 1, finishReason: 'stop', aborted: false });
    expect(parts.filter((p) => p.type === 'text-delta').map((p) => (p as { text: string }).text)).toEqual(['Hel', 'lo, ', 'world']);
    expect(parts.filter((p) => p.type === 'text')).toEqual([{ type: 'text', text: 'Hello, world' }]);

    expect(model.requests).toHaveLength(1);
    const req = model.requests[0];
    expect(req.url).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe('Bearer sk-test-secret');
    expect(req.body.model).toBe('test-model');
    expect(req.body.stream).toBe(true);
    const roles = req.body.messages.map((m: { role: string }) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'user']);
    expect(req.body.messages[0].content).toContain(fs.realpathSync(project));
    expect(req.body.messages.at(-1).content).toBe('do the thing');
    expect(req.body.tools.map((t: { function: { name: string } }) => t.function.name).sort()).toEqual([
      'edit_file',
      'list_files',
      'read_file',
      'run_command',
      'write_file',
    ]);
  });

  it('runs a read then an edit on real files and sends each result back to the model', async () => {
    fs.mkdirSync(path.join(project, 'src'));
    fs.writeFileSync(path.join(project, 'src', 'greet.ts'), 'export const greeting = "hello";\n');
    model.reply(
      { text: ['Let me look.'], toolCalls: [{ id: 'call_read', name: 'read_file', args: { path: 'src/greet.ts' } }] },
      {
        toolCalls: [{ id: 'call_edit', name: 'edit_file', args: { path: 'src/greet.ts', old_string: '"hello"', new_string: '"hello, world"' } }],
      },
      { text: ['Done: ', 'greeting updated.'] },
    );
    const { parts, promise } = run();
    const result = await promise;

    expect(result).toEqual({ text: 'Done: greeting updated.', steps: 3, finishReason: 'stop', aborted: false });
    expect(fs.readFileSync(path.join(project, 'src', 'greet.ts'), 'utf8')).toBe('export const greeting = "hello, world";\n');

    // The read result reached the model in the second request, the edit result in the third.
    expect(model.requests).toHaveLength(3);
    const [readMsg] = toolMessages(1);
    expect(readMsg.tool_call_id).toBe('call_read');
    expect(JSON.parse(readMsg.content)).toMatchObject({ path: 'src/greet.ts', content: 'export const greeting = "hello";\n' });
    const edits = toolMessages(2).filter((m) => m.tool_call_id === 'call_edit');
    expect(JSON.parse(edits[0].content)).toEqual({ path: 'src/greet.ts', replacements: 1, line: 1 });

    // Parts in order: text, call, result, call, result, final text.
    expect(parts.filter((p) => p.type !== 'text-delta').map((p) => p.type)).toEqual(['text', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'text']);
    expect(parts).toContainEqual({ type: 'tool_call', toolCallId: 'call_read', toolName: 'read_file', input: { path: 'src/greet.ts' } });
    expect(parts).toContainEqual(expect.objectContaining({ type: 'tool_result', toolCallId: 'call_edit', toolName: 'edit_file', isError: false }));
  });

  it('turns escapes from the directory into error results and keeps going', async () => {
    const outside = path.join(tmp, 'outside.txt');
    fs.writeFileSync(outside, 'secret outside');
    fs.symlinkSync(outside, path.join(project, 'link.txt'));
    model.reply(
      {
        toolCalls: [
          { id: 'c1', name: 'read_file', args: { path: '../outside.txt' } },
          { id: 'c2', name: 'read_file', args: { path: '/etc/passwd' } },
          { id: 'c3', name: 'read_file', args: { path: 'link.txt' } },
          { id: 'c4', name: 'write_file', args: { path: '../x', content: 'no' } },
        ],
      },
      { text: ['I cannot reach those.'] },
    );
    const { parts, promise } = run();
    const result = await promise;

    expect(result).toMatchObject({ text: 'I cannot reach those.', steps: 2, finishReason: 'stop' });
    // The four calls run in parallel, so their results arrive in any order.
    const results = parts
      .filter((p): p is Extract<AgentPart, { type: 'tool_result' }> => p.type === 'tool_result')
      .sort((a, b) => a.toolCallId.localeCompare(b.toolCallId));
    expect(results.map((r) => [r.toolCallId, r.isError])).toEqual([
      ['c1', true],
      ['c2', true],
      ['c3', true],
      ['c4', true],
    ]);
    for (const r of results) expect((r.output as { error: string }).error).toMatch(/outside the allowed directory/);
    expect((results[2].output as { error: string }).error).toMatch(/symlink/);
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);

    // The model saw the errors, and nothing of the outside file.
    const sent = toolMessages(1);
    expect(sent).toHaveLength(4);
    for (const m of sent) expect(JSON.parse(m.content).error).toMatch(/outside the allowed directory/);
    expect(JSON.stringify(model.requests[1].body)).not.toContain('secret outside');
  });

  it('reports input that fails the schema as an error result the model can correct', async () => {
    model.reply(
      { toolCalls: [{ id: 'bad', name: 'read_file', args: { file: 'a.txt' } }] },
      { toolCalls: [{ id: 'nope', name: 'delete_everything', args: {} }] },
      { text: ['ok'] },
    );
    const { parts, promise } = run();
    const result = await promise;
    expect(result).toMatchObject({ text: 'ok', steps: 3, finishReason: 'stop' });
    const errors = parts.filter((p) => p.type === 'tool_result' && p.isError);
    expect(errors.map((p) => (p as { toolCallId: string }).toolCallId)).toEqual(['bad', 'nope']);
    expect(toolMessages(1)[0].tool_call_id).toBe('bad');
  });

  it('stops an endlessly tool-calling model at maxSteps', async () => {
    model.fallback = () => ({ toolCalls: [{ name: 'list_files', args: {} }] });
    const { parts, promise } = run({ maxSteps: 4 });
    const result = await promise;
    expect(result).toEqual({ text: '', steps: 4, finishReason: 'tool-calls', aborted: false });
    expect(model.requests).toHaveLength(4);
    expect(parts.filter((p) => p.type === 'tool_result')).toHaveLength(4);
  });

  it('stops promptly when aborted mid-stream', async () => {
    model.reply({ hang: true, text: ['Thinking', ' about it'] });
    const controller = new AbortController();
    const { parts, promise } = run({ signal: controller.signal });
    await waitFor(() => parts.some((p) => p.type === 'text-delta'), { what: 'the first text delta' });

    const t0 = Date.now();
    controller.abort();
    const result = await promise;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(result).toMatchObject({ aborted: true, finishReason: 'aborted', steps: 0 });
    // Partial text is still delivered whole, for persisting what the user saw.
    expect(parts).toContainEqual({ type: 'text', text: 'Thinking about it' });
    await waitFor(() => model.openStreams === 0, { what: 'the held model stream to close' });
  });

  it('kills a running run_command (and its children) on abort', async () => {
    model.reply({
      toolCalls: [{ id: 'slow', name: 'run_command', args: { command: 'sleep 30 & echo $! > sleep.pid; echo started; wait' } }],
    });
    const controller = new AbortController();
    const { parts, promise } = run({ signal: controller.signal });
    const pidFile = path.join(project, 'sleep.pid');
    const pid = await waitFor(
      () => {
        const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
        return text ? Number(text) : undefined;
      },
      { what: 'the command to start sleeping' },
    );
    expect(isAlive(pid)).toBe(true);

    const t0 = Date.now();
    controller.abort();
    const result = await promise;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(result).toMatchObject({ aborted: true, finishReason: 'aborted' });
    await waitFor(() => !isAlive(pid), { timeout: 3000, what: `sleep (pid ${pid}) to be killed` });
    expect(parts).toContainEqual(expect.objectContaining({ type: 'tool_call', toolCallId: 'slow', toolName: 'run_command' }));
    // Only the first request: the loop did not go on to another step.
    expect(model.requests).toHaveLength(1);
  });

  it('lets an exception from onPart out and stops the run', async () => {
    model.reply({ text: ['a', 'b'] });
    const { promise } = run({
      onPart: () => {
        throw new Error('subscriber broke');
      },
    });
    await expect(promise).rejects.toThrow('subscriber broke');
  });

  it('returns at once when the signal is already aborted', async () => {
    model.reply({ text: ['never'] });
    const controller = new AbortController();
    controller.abort();
    const { promise } = run({ signal: controller.signal });
    expect(await promise).toMatchObject({ aborted: true, steps: 0 });
  });

  it('reports a provider HTTP error as an error part, without the API key', async () => {
    model.reply({ status: 401, message: 'invalid key sk-test-secret for this org' });
    const { parts, promise } = run();
    const result = await promise;
    expect(result).toMatchObject({ aborted: false, finishReason: 'error', steps: 0 });
    const errors = parts.filter((p): p is Extract<AgentPart, { type: 'error' }> => p.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('invalid key [redacted]');
    expect(JSON.stringify(parts)).not.toContain('sk-test-secret');
  });

  it('reports an unreachable provider as an error part', async () => {
    const url = model.baseURL;
    await model.close();
    const parts: AgentPart[] = [];
    const result = await runAgent({
      settings: resolveProviderSettings({ modelUrl: url, model: 'm' }, {}),
      directory: project,
      history: [],
      prompt: 'hi',
      signal: new AbortController().signal,
      maxRetries: 0,
      onPart: (p) => parts.push(p),
    });
    expect(result.finishReason).toBe('error');
    expect(parts.find((p) => p.type === 'error')).toBeDefined();
    model = await startFakeModel(); // for afterEach
  });
});
