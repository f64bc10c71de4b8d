// The scope matrix's plans for /mcp: its tools and resources call the API again with the caller's
// credential, so a scoped token's MCP client reaches exactly what the token does over HTTP.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { FILES, reaches, type ScopeWorld, type TokenName } from './scope-world.js';

type Plan = (t: TokenName) => Promise<string[]>;

const textOf = (r: unknown) => ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('');

async function connect(w: ScopeWorld, token: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${w.s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'scope-matrix', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** POST /mcp: tools and resources reach exactly the token's files; a command runs in its default directory. */
export function mcpPost(world: () => ScopeWorld, defaultDir: (t: TokenName) => string | null): Plan {
  return async (t) => {
    const w = world();
    const failures: string[] = [];
    let client: Client;
    try {
      client = await connect(w, w.token[t]);
    } catch (err) {
      return t === 'outside' && /403|outside_scope/.test(String(err)) ? [] : [`${t} MCP connect: ${String(err)}`];
    }
    if (t === 'outside') failures.push('outside: MCP connect succeeded');
    try {
      for (const [f, d] of Object.entries(FILES)) {
        const r = await client.callTool({ name: 'read_file', arguments: { path: f } });
        const ok = reaches(t, d) ? !r.isError && textOf(r).includes(f) : r.isError === true && /outside_scope/.test(textOf(r));
        if (!ok) failures.push(`${t} MCP read_file ${f}: ${textOf(r).slice(0, 160)}`);
      }
      const uris = (await client.listResources()).resources.map((r) => r.uri.replace('tether://file/', '')).sort();
      const want = Object.entries(FILES)
        .filter(([, d]) => reaches(t, d))
        .map(([f]) => f)
        .sort();
      if (JSON.stringify(uris) !== JSON.stringify(want)) failures.push(`${t} MCP resources: ${JSON.stringify(uris)}, want ${JSON.stringify(want)}`);
      const run = await client.callTool({ name: 'run_command', arguments: { command: 'pwd' } });
      const where = (run.structuredContent as { stdout?: string } | undefined)?.stdout?.trim();
      if (where !== defaultDir(t)) failures.push(`${t} MCP run_command ran in ${where}, want ${defaultDir(t)}: ${textOf(run).slice(0, 160)}`);
    } finally {
      await client.close().catch(() => {});
    }
    return failures;
  };
}

/** GET and DELETE /mcp without a session: past the guard (the MCP layer's 400), except for a token outside the project. */
export function mcpBare(world: () => ScopeWorld, method: 'GET' | 'DELETE'): Plan {
  return async (t) => {
    const r = await world().call(world().token[t], method, '/mcp', undefined, { accept: 'application/json, text/event-stream' });
    const ok = t === 'outside' ? r.status === 403 && r.body?.error?.code === 'outside_scope' : r.status === 400 && /Mcp-Session-Id/.test(r.text);
    return ok ? [] : [`${t} ${method} /mcp: ${r.status} ${r.text.slice(0, 160)}`];
  };
}
