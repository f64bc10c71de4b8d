// The escalation matrix for MCP (DESIGN 3a): every tool of the policy's tool table, called with the
// arguments an attacker would choose, by every token lacking some permission, over a real MCP session
// (or the attempt to open one). Nothing may run, change or be read beyond the token: no marker file,
// no changed or deleted project file, and each refused call is the HTTP 403 step-up answer.
// A self-test with an admin token proves the same calls do fire.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_RULES, toolDecision } from '../../src/auth/policy.js';
import type { Permission } from '../../src/auth/permissions.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let model: FakeModel;
let markers: string;

/** Attacker arguments per tool; a tool missing here fails the coverage test. */
const attack = (tool: string): Record<string, unknown> | undefined =>
  ({
    list_files: { path: '.' },
    read_file: { path: 'secret.txt' },
    find_files: { query: 'secret' },
    search: { pattern: 'xsecretx' },
    write_file: { path: 'notes.txt', content: 'overwritten by the attacker' },
    delete_file: { path: 'notes.txt' },
    run_command: { command: `touch ${path.join(markers, 'run_command.canary')}` },
    ask_agent: { prompt: `run the command: touch ${path.join(markers, 'ask_agent.canary')}` },
  })[tool];

const WEAK: Record<string, Permission[]> = {
  r: ['read'],
  w: ['write'],
  x: ['execute'],
  rw: ['read', 'write'],
  rx: ['read', 'execute'],
  wx: ['write', 'execute'],
};

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

async function rpc(token: string, body: unknown, sessionId?: string): Promise<{ status: number; www: string | null; text: string; sessionId: string | null }> {
  const res = await s.fetch('/mcp', {
    token,
    method: 'POST',
    headers: { ...HEADERS, ...(sessionId && { 'mcp-session-id': sessionId }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, www: res.headers.get('www-authenticate'), text: await res.text(), sessionId: res.headers.get('mcp-session-id') };
}

async function openSession(token: string): Promise<{ status: number; sessionId: string | null }> {
  const init = await rpc(token, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } },
  });
  if (init.status === 200 && init.sessionId) await rpc(token, { jsonrpc: '2.0', method: 'notifications/initialized' }, init.sessionId);
  return { status: init.status, sessionId: init.sessionId };
}

const projectState = () => ({ notes: fs.existsSync(path.join(s.project, 'notes.txt')) ? fs.readFileSync(path.join(s.project, 'notes.txt'), 'utf8') : null });

beforeAll(async () => {
  model = await startFakeModel();
  s = await startTestServer({ registrars: await productionRegistrars(), sweepMs: 100 });
  markers = fs.mkdtempSync(path.join(s.env.root, 'markers-'));
  fs.writeFileSync(path.join(s.project, 'notes.txt'), 'the original notes\n');
  fs.writeFileSync(path.join(s.project, 'secret.txt'), 'xsecretx\n');
  const { token } = await s.token();
  const r = await s.fetch('/config', {
    token,
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ modelUrl: model.baseURL, model: 'm', apiKey: 'sk-test-key-123456' }),
  });
  expect(r.status).toBe(200);
  // The model obeys: it runs whatever the prompt asks for, then answers.
  // The prompt's text, whether the provider sends the content as a string or as parts.
  const textOf = (content: unknown): string =>
    typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';
  model.fallback = (req) => {
    const last = req.body?.messages?.at(-1);
    if (last?.role === 'tool') return { text: ['done'] };
    const m = /run the command: (.*)$/s.exec(textOf(last?.content));
    return m ? { toolCalls: [{ name: 'run_command', args: { command: m[1].trim() } }] } : { text: ['nothing to run'] };
  };
}, 60_000);

afterAll(async () => {
  await s.close();
  await model.close();
});

describe('MCP escalation matrix', () => {
  it('has attacker arguments for every tool of the policy table', () => {
    expect(TOOL_RULES.filter((t) => attack(t.name) === undefined).map((t) => t.name)).toEqual([]);
  });

  it('no token calls a tool beyond its permissions: 403 step-up, nothing runs, changes or leaks', async () => {
    const failures: string[] = [];
    const before = projectState();
    let calls = 0;
    for (const [label, perms] of Object.entries(WEAK)) {
      const { token } = await s.token(perms);
      const opened = await openSession(token);
      if (!perms.includes('read')) {
        // Without read, not even a session: the guard refuses /mcp itself.
        if (opened.status !== 403) failures.push(`${label}: initialize answered ${opened.status}, expected 403`);
        continue;
      }
      if (opened.status !== 200 || !opened.sessionId) {
        failures.push(`${label}: could not open a session (${opened.status})`);
        continue;
      }
      for (const tool of TOOL_RULES) {
        if (toolDecision(tool.name, perms).kind === 'allowed') continue;
        calls++;
        const r = await rpc(
          token,
          { jsonrpc: '2.0', id: calls, method: 'tools/call', params: { name: tool.name, arguments: attack(tool.name) } },
          opened.sessionId,
        );
        if (r.status !== 403) failures.push(`${label} ${tool.name}: ${r.status} ${r.text.slice(0, 120)}`);
        if (!r.www?.startsWith('Bearer error="insufficient_scope"')) failures.push(`${label} ${tool.name}: WWW-Authenticate ${r.www}`);
        if (r.text.includes('xsecretx') || r.text.includes('original notes')) failures.push(`${label} ${tool.name}: project data in the refusal`);
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(8);
    expect(fs.readdirSync(markers)).toEqual([]);
    expect(projectState()).toEqual(before);
    expect(model.requests).toEqual([]);
  }, 60_000);

  it('self-test: an admin token makes every attack fire (markers, a changed and a deleted file, the secret read)', async () => {
    const { token } = await s.token();
    const opened = await openSession(token);
    expect(opened.status).toBe(200);
    const seen: Record<string, string> = {};
    let id = 100;
    for (const tool of TOOL_RULES) {
      const r = await rpc(
        token,
        { jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: tool.name, arguments: attack(tool.name) } },
        opened.sessionId!,
      );
      expect(r.status, tool.name).toBe(200);
      seen[tool.name] = r.text;
    }
    expect(seen.read_file).toContain('xsecretx');
    expect(seen.search).toContain('secret.txt');
    expect(fs.existsSync(path.join(s.project, 'notes.txt'))).toBe(false); // written, then deleted
    expect(fs.readdirSync(markers).sort()).toEqual(['ask_agent.canary', 'run_command.canary']);
  }, 60_000);
});
