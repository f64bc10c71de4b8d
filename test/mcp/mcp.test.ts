// tether's /mcp driven by the official SDK client (Client + Streamable HTTP transport), as an MCP
// client would: tools listed and called with read, write and execute tokens, the step-up refusal,
// resources, session ownership and revocation.
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteTokens } from '../../src/auth/token-admin.js';
import { TOOL_RULES } from '../../src/auth/policy.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let s: TestServer;
const clients: Client[] = [];

beforeAll(async () => {
  s = await startTestServer({ registrars: await productionRegistrars(), sweepMs: 100 });
  fs.writeFileSync(path.join(s.project, 'hello.txt'), 'hello from the project\n');
  fs.mkdirSync(path.join(s.project, 'src'));
  fs.writeFileSync(path.join(s.project, 'src', 'a.ts'), 'export const needle = 42;\n');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await s.close();
});

async function connect(token: string | null): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), {
    requestInit: { headers: token === null ? {} : { authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'tether-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

const textOf = (r: unknown) => ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('');

describe('/mcp with the official SDK client', () => {
  it('initializes, and tools/list shows a read token only the read tools', async () => {
    const { token } = await s.token(['read']);
    const c = await connect(token);
    expect(c.getServerVersion()?.name).toBe('tether');
    const names = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['find_files', 'list_files', 'read_file', 'search']);
  });

  it('shows every tool to a token with all permissions', async () => {
    const { token } = await s.token(['read', 'write', 'execute']);
    const c = await connect(token);
    const names = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(TOOL_RULES.map((t) => t.name).sort());
  });

  it('calls the read tools through the API (confinement included)', async () => {
    const { token } = await s.token(['read']);
    const c = await connect(token);
    const read = await c.callTool({ name: 'read_file', arguments: { path: 'hello.txt' } });
    expect(read.isError).toBeFalsy();
    expect(textOf(read)).toContain('hello from the project');
    const list = await c.callTool({ name: 'list_files', arguments: {} });
    expect(textOf(list)).toContain('hello.txt');
    const found = await c.callTool({ name: 'search', arguments: { pattern: 'needle' } });
    expect(textOf(found)).toContain('src/a.ts');
    const files = await c.callTool({ name: 'find_files', arguments: { query: 'a.ts' } });
    expect(textOf(files)).toContain('src/a.ts');
    const out = await c.callTool({ name: 'read_file', arguments: { path: '../../etc/passwd' } });
    expect(out.isError).toBe(true);
    expect(textOf(out)).toMatch(/outside/);
  });

  it('refuses a call beyond the token with HTTP 403 insufficient_scope (the step-up answer)', async () => {
    const { token } = await s.token(['read']);
    const c = await connect(token);
    await expect(c.callTool({ name: 'run_command', arguments: { command: 'touch pwned' } })).rejects.toThrow(/403|insufficient_scope|lacks/);
    expect(fs.existsSync(path.join(s.project, 'pwned'))).toBe(false);
    // The raw answer: status, header and a JSON-RPC error body.
    const sid = (c.transport as StreamableHTTPClientTransport).sessionId!;
    const res = await s.fetch('/mcp', {
      token,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'run_command', arguments: { command: 'id' } } }),
    });
    expect(res.status).toBe(403);
    const www = res.headers.get('www-authenticate') ?? '';
    expect(www).toMatch(
      /^Bearer error="insufficient_scope", scope="read write execute", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    const body = (await res.json()) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(7);
    expect(body.error.message).toMatch(/lacks write and execute permission/);
  });

  it('runs a command for an execute token, recorded in a tether session', async () => {
    const { token } = await s.token(['read', 'write', 'execute']);
    const c = await connect(token);
    const r = await c.callTool({ name: 'run_command', arguments: { command: 'echo from-mcp; exit 3' } });
    expect(r.isError).toBe(true); // exit 3
    const data = r.structuredContent as { sessionId: string; exitCode: number; stdout: string };
    expect(data.exitCode).toBe(3);
    expect(data.stdout).toContain('from-mcp');
    const msgs = (await (await s.fetch(`/session/${data.sessionId}/message`, { token })).json()) as { messages: { role: string }[] };
    expect(msgs.messages.some((m) => m.role === 'shell')).toBe(true);
  });

  it('lists and reads project files as resources', async () => {
    const { token } = await s.token(['read']);
    const c = await connect(token);
    const uris = (await c.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain('tether://file/hello.txt');
    expect(uris).toContain('tether://file/src/a.ts');
    const templates = (await c.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toContain('tether://file/{+path}');
    const r = await c.readResource({ uri: 'tether://file/hello.txt' });
    expect((r.contents[0] as { text: string }).text).toContain('hello from the project');
    await expect(c.readResource({ uri: 'tether://file/../outside' })).rejects.toThrow(/outside/);
  });

  it('answers 401 with resource metadata without a token, and serves that metadata publicly', async () => {
    const res = await s.fetch('/mcp', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/);
    const meta = (await (await s.fetch('/.well-known/oauth-protected-resource/mcp')).json()) as { resource: string; scopes_supported: string[] };
    expect(meta.resource).toBe(`${s.url}/mcp`);
    expect(meta.scopes_supported).toEqual(['read', 'write', 'execute']);
  });

  it('another token cannot use a session (404, as if it did not exist)', async () => {
    const a = await s.token(['read']);
    const b = await s.token(['read']);
    const c = await connect(a.token);
    const sid = (c.transport as StreamableHTTPClientTransport).sessionId!;
    const res = await s.fetch('/mcp', {
      token: b.token,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });

  it('revoking the token ends its session within a second', async () => {
    const { token, id } = await s.token(['read']);
    const c = await connect(token);
    const sid = (c.transport as StreamableHTTPClientTransport).sessionId!;
    await deleteTokens([id], s.env.tokenFile);
    // The server ends the session itself (it is one of the live connections the sweep closes).
    await waitFor(() => s.logs.some((l) => l.event === 'mcp.session_closed' && l.tokenId === id && l.reason === 'token revoked'), { timeout: 1000 });
    await expect(c.listTools()).rejects.toThrow(/unknown_token/);
    const other = await s.token(['read']);
    const res = await s.fetch('/mcp', {
      token: other.token,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
  });
});
