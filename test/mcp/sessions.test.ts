// MCP session bookkeeping: the per-token cap ends the least recently used session, idle sessions
// end after an hour (a fake clock), and a session is found only by the token that opened it.
import { describe, expect, it } from 'vitest';
import { IDLE_MS, MAX_SESSIONS_PER_TOKEN, McpSessions, type McpSession } from '../../src/mcp/sessions.js';
import { LiveConnections } from '../../src/server/connections.js';

function setup() {
  let now = 1_000_000;
  const logs: string[] = [];
  const sessions = new McpSessions({
    app: { fetch: () => new Response('{}') },
    connections: new LiveConnections(null),
    log: { log: (_l, event) => logs.push(event) },
    version: 'test',
    now: () => now,
  });
  const open = async (tokenId: string): Promise<McpSession> => {
    await sessions.makeRoom(tokenId);
    const s = sessions.create(tokenId, ['read']);
    await s.server.connect(s.transport);
    const res = await s.transport.handleRequest(
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      }),
    );
    expect(res.status).toBe(200);
    expect(s.id).toBeDefined();
    return s;
  };
  return { sessions, open, logs, tick: (ms: number) => (now += ms) };
}

describe('MCP sessions', () => {
  it('are found only by the token that opened them', async () => {
    const t = setup();
    const a = await t.open('tok_a');
    expect(t.sessions.get(a.id!, 'tok_a')).toBe(a);
    expect(t.sessions.get(a.id!, 'tok_b')).toBeUndefined();
    expect(t.sessions.get(a.id!, null)).toBeUndefined();
    await t.sessions.closeAll();
  });

  it(`at ${MAX_SESSIONS_PER_TOKEN} per token, a new one ends the least recently used (other tokens untouched)`, async () => {
    const t = setup();
    const other = await t.open('tok_b');
    const mine: McpSession[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_TOKEN; i++) {
      t.tick(1);
      mine.push(await t.open('tok_a'));
    }
    t.tick(1);
    t.sessions.get(mine[0].id!, 'tok_a'); // used: now the second one is the least recently used
    t.tick(1);
    await t.open('tok_a');
    expect(t.sessions.countFor('tok_a')).toBe(MAX_SESSIONS_PER_TOKEN);
    expect(t.sessions.get(mine[1].id!, 'tok_a')).toBeUndefined();
    expect(t.sessions.get(mine[0].id!, 'tok_a')).toBe(mine[0]);
    expect(t.sessions.get(other.id!, 'tok_b')).toBe(other);
    expect(t.logs).toContain('mcp.session_evicted');
    await t.sessions.closeAll();
  });

  it('end after an hour without a request', async () => {
    const t = setup();
    const a = await t.open('tok_a');
    const b = await t.open('tok_a');
    t.tick(IDLE_MS - 1);
    t.sessions.get(b.id!, 'tok_a');
    t.tick(2);
    t.sessions.expireIdle();
    await Promise.resolve();
    expect(t.sessions.countFor('tok_a')).toBe(1);
    expect(t.sessions.get(a.id!, 'tok_a')).toBeUndefined();
    expect(t.sessions.get(b.id!, 'tok_a')).toBe(b);
    await t.sessions.closeAll();
  });
});
