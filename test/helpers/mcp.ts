// A raw MCP `initialize` over Streamable HTTP: what a client sends first, for tests that only need
// to know whether a credential opens a session at /mcp (the SDK client is test/e2e and test/mcp).
export function mcpInitialize(base: string, token: string): Promise<Response> {
  return fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}
