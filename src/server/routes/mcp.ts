// `/mcp`: tether as a Model Context Protocol server (Streamable HTTP, the official SDK's web-standard
// transport), behind the same browser-safety checks and guard as every route. The guard lets any
// token with read in (the route table waives the POST method rule here); this dispatcher then asks
// the policy's tool table about every tools/call, and refuses one beyond the token's permissions with
// the MCP step-up answer: HTTP 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { toolDecision } from '../../auth/policy.js';
import { seedFrom } from '../../mcp/api.js';
import type { McpSessions } from '../../mcp/sessions.js';
import type { ServerContext } from '../context.js';

export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** The RFC 9728 metadata URL for the /mcp resource, as a 401 or 403 names it. */
export function resourceMetadataUrl(origin: string): string {
  return `${origin}${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}`;
}

interface RpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: { name?: unknown } | null;
}

const rpcError = (c: Context, status: 400 | 403 | 404, code: number, message: string, id: unknown = null) =>
  c.json({ jsonrpc: '2.0', id: typeof id === 'string' || typeof id === 'number' ? id : null, error: { code, message } }, status);

export function registerMcp(app: OpenAPIHono, ctx: ServerContext): void {
  // The MCP SDK (a large module graph) is loaded by the first /mcp request, not at server start.
  let loading: Promise<McpSessions> | undefined;
  const mcpSessions = () =>
    (loading ??= import('../../mcp/sessions.js').then(
      ({ McpSessions }) => new McpSessions({ app, connections: ctx.connections, log: ctx.log, version: ctx.version }),
    ));
  ctx.onClose(async () => {
    const sessions = loading && (await loading.catch(() => undefined));
    if (sessions) await sessions.closeAll();
  });

  const handle = async (c: Context) => {
    const auth = c.get('auth');
    let body: unknown;
    if (c.req.method === 'POST') {
      try {
        body = await c.req.json();
      } catch {
        return rpcError(c, 400, -32700, 'Parse error: the request body is not JSON (send one JSON-RPC message)');
      }
      for (const m of (Array.isArray(body) ? body : [body]) as RpcMessage[]) {
        if (m?.method !== 'tools/call' || typeof m.params?.name !== 'string') continue;
        const d = toolDecision(m.params.name, auth.permissions);
        if (d.kind !== 'denied') continue; // allowed, or unknown (the SDK answers "tool not found")
        const origin = new URL(c.req.url).origin;
        c.header(
          'WWW-Authenticate',
          `Bearer error="insufficient_scope", scope="${d.needs.join(' ')}", resource_metadata="${resourceMetadataUrl(origin)}", ` +
            `error_description="the tool ${m.params.name} needs ${d.missing.join(' and ')} permission"`,
        );
        return rpcError(
          c,
          403,
          -32003,
          `token "${auth.name}" lacks ${d.missing.join(' and ')} permission, needed for the tool ${m.params.name}; ` +
            `create a token with \`tether auth token create --permissions ${d.needs.join(',')}\``,
          m.id,
        );
      }
    }

    const sessions = await mcpSessions();
    const id = c.req.header('mcp-session-id');
    let session;
    if (id === undefined) {
      const init = !Array.isArray(body) && (body as RpcMessage | undefined)?.method === 'initialize';
      if (c.req.method !== 'POST' || !init) {
        return rpcError(c, 400, -32000, 'Bad Request: no Mcp-Session-Id header; start a session with an initialize request');
      }
      await sessions.makeRoom(auth.tokenId);
      session = sessions.create(auth.tokenId, auth.permissions);
    } else {
      session = sessions.get(id, auth.tokenId);
      // Another token's session is answered exactly like one that does not exist.
      if (!session) return rpcError(c, 404, -32001, 'Session not found: it ended or was never opened by this token; initialize a new one');
    }
    if (session.id === undefined) await session.server.connect(session.transport);
    const seed = seedFrom(c);
    return session.transport.handleRequest(c.req.raw, {
      parsedBody: body,
      authInfo: { token: 'forwarded', clientId: auth.tokenId ?? 'no-auth', scopes: [...auth.permissions], extra: { seed } },
    });
  };

  // RFC 9728: what this resource is and which scopes (tether's permissions) it knows. Public: it
  // holds nothing but the server's own address, and OAuth clients read it before they have a token.
  app.get(`${PROTECTED_RESOURCE_METADATA_PATH}${MCP_PATH}`, (c) => {
    const origin = new URL(c.req.url).origin;
    return c.json({
      resource: `${origin}${MCP_PATH}`,
      resource_name: 'tether',
      // tether is its own authorization server (routes/oauth.ts).
      authorization_servers: [origin],
      scopes_supported: ['read', 'write', 'execute'],
      bearer_methods_supported: ['header'],
    });
  });

  app.post(MCP_PATH, handle);
  app.get(MCP_PATH, handle);
  app.delete(MCP_PATH, handle);
}
