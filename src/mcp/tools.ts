// The MCP tools: each mirrors API routes (TOOL_RULES in auth/policy.ts names which) and calls them
// in-process with the caller's credential (api.ts). Registered per MCP session, only those the
// session's token may call, so `tools/list` shows a token exactly its tools.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TOOL_RULES, toolDecision } from '../auth/policy.js';
import type { Permission } from '../auth/permissions.js';
import { apiErrorText, type ApiCaller, type ApiResult } from './api.js';
import { readEventStream } from './sse-read.js';

export interface ToolContext {
  /** An API caller carrying the credential of the MCP request being served. */
  caller: () => ApiCaller;
  /** The tether session this MCP session records its commands and prompts in (created on first use). */
  session: (caller: ApiCaller) => Promise<string>;
  /** Reports progress of a long call (ask_agent), when the client asked for it. */
  progress: (message: string) => Promise<void>;
}

type Handler = (args: Record<string, unknown>, ctx: ToolContext) => Promise<CallToolResult>;

interface ToolDef {
  description: string;
  input: Record<string, z.ZodType>;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
  run: Handler;
}

const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: 'text', text: t }], ...(isError && { isError: true }) });
const json = (v: unknown): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(v, null, 2) }],
  structuredContent: v as Record<string, unknown>,
});
const refused = (r: ApiResult): CallToolResult => text(apiErrorText(r), true);
const ok = (r: ApiResult) => r.status >= 200 && r.status < 300;

const path = z.string().min(1).max(4096).describe('Relative to the project (or absolute inside it)');
const limit = (max: number) => z.number().int().min(1).max(max).optional();

export const TOOL_DEFS: Readonly<Record<string, ToolDef>> = {
  list_files: {
    description: 'List a directory of the project (default: the project root).',
    input: { path: path.optional() },
    annotations: { readOnlyHint: true },
    run: async (a, t) => {
      const r = await t.caller().json('GET', '/file', { query: { path: a.path as string | undefined } });
      return ok(r) ? json(r.body) : refused(r);
    },
  },
  read_file: {
    description: 'Read a file of the project (at most 1 MiB). Returns its text (or base64 for binary) and its etag, for write_file.',
    input: { path },
    annotations: { readOnlyHint: true },
    run: async (a, t) => {
      const r = await t.caller().json('GET', '/file/content', { query: { path: a.path as string } });
      if (!ok(r)) return refused(r);
      const etag = r.headers.get('etag');
      return json({ ...(r.body as object), ...(etag !== null && { etag }) });
    },
  },
  find_files: {
    description: 'Find files and directories whose path contains the query (case-insensitive).',
    input: { query: z.string().min(1).max(1024), limit: limit(1000) },
    annotations: { readOnlyHint: true },
    run: async (a, t) => {
      const r = await t.caller().json('GET', '/find/file', { query: { query: a.query as string, limit: a.limit?.toString() } });
      return ok(r) ? json(r.body) : refused(r);
    },
  },
  search: {
    description: 'Search file contents for literal text (not a regular expression).',
    input: { pattern: z.string().min(1).max(1024), caseSensitive: z.boolean().optional(), limit: limit(1000) },
    annotations: { readOnlyHint: true },
    run: async (a, t) => {
      const query = {
        pattern: a.pattern as string,
        caseSensitive: typeof a.caseSensitive === 'boolean' ? String(a.caseSensitive) : undefined,
        limit: a.limit?.toString(),
      };
      const r = await t.caller().json('GET', '/find', { query });
      return ok(r) ? json(r.body) : refused(r);
    },
  },
  write_file: {
    description:
      'Create or replace a file of the project atomically (at most 1 MiB). Pass ifMatch (the etag from read_file) so that a file changed meanwhile is not overwritten.',
    input: {
      path,
      content: z.string(),
      encoding: z.enum(['utf8', 'base64']).optional(),
      ifMatch: z.string().max(200).optional().describe('The etag read_file returned; "*" = only if it exists'),
      createOnly: z.boolean().optional().describe('Fail if the file exists'),
    },
    annotations: { destructiveHint: true, idempotentHint: true },
    run: async (a, t) => {
      const headers: Record<string, string> = {};
      if (typeof a.ifMatch === 'string') headers['if-match'] = a.ifMatch;
      if (a.createOnly === true) headers['if-none-match'] = '*';
      const body = { content: a.content, encoding: a.encoding ?? 'utf8' };
      const r = await t.caller().json('PUT', '/file/content', { query: { path: a.path as string }, body, headers });
      if (!ok(r)) return refused(r);
      const etag = r.headers.get('etag');
      return json({ ...(r.body as object), ...(etag !== null && { etag }) });
    },
  },
  delete_file: {
    description: 'Delete one file of the project (not a directory). Pass ifMatch to delete only the version you read.',
    input: { path, ifMatch: z.string().max(200).optional() },
    annotations: { destructiveHint: true },
    run: async (a, t) => {
      const headers: Record<string, string> = typeof a.ifMatch === 'string' ? { 'if-match': a.ifMatch } : {};
      const r = await t.caller().json('DELETE', '/file', { query: { path: a.path as string }, headers });
      return ok(r) ? json(r.body) : refused(r);
    },
  },
  run_command: {
    description: 'Run a shell command (bash -c) in the project, recorded in a tether session. Returns stdout, stderr (each capped) and the exit code.',
    input: { command: z.string().min(1).max(100_000), timeoutMs: z.number().int().min(1).max(3_600_000).optional() },
    annotations: { destructiveHint: true, openWorldHint: true },
    run: async (a, t) => {
      const caller = t.caller();
      const id = await t.session(caller);
      const r = await caller.json('POST', `/session/${id}/shell`, {
        body: { command: a.command, ...(a.timeoutMs !== undefined && { timeoutMs: a.timeoutMs }) },
      });
      if (!ok(r)) return refused(r);
      const msg = r.body as { status?: string; parts?: { type: string; data: unknown }[] };
      const shell = msg.parts?.find((p) => p.type === 'shell')?.data as { exitCode?: number | null } | undefined;
      const failed = msg.status !== 'completed' || (shell?.exitCode ?? 0) !== 0;
      return { ...json({ sessionId: id, status: msg.status, ...(shell as object) }), ...(failed && { isError: true }) };
    },
  },
  ask_agent: {
    description: "Send a prompt to tether's agent (in a tether session) and return its reply; progress notifications stream the text.",
    input: { prompt: z.string().min(1).max(100_000) },
    annotations: { destructiveHint: true, openWorldHint: true },
    run: async (a, t) => {
      const caller = t.caller();
      const id = await t.session(caller);
      const res = await caller.raw('POST', `/session/${id}/message`, { body: { text: a.prompt }, headers: { accept: 'text/event-stream' } });
      if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const body: unknown = await res.json().catch(() => null);
        return refused({ status: res.status, headers: res.headers, body });
      }
      let reply = '';
      let final: unknown = null;
      let failure: string | null = null;
      for await (const ev of readEventStream(res)) {
        const { type, properties } = ev as { type?: string; properties?: Record<string, unknown> };
        if (type === 'message.part.delta' && typeof properties?.text === 'string') {
          reply += properties.text;
          await t.progress(properties.text);
        } else if (type === 'done') final = properties?.message ?? null;
        else if (type === 'error') failure = JSON.stringify(properties?.error ?? properties);
      }
      if (failure !== null) return text(`the agent run failed: ${failure}`, true);
      const msg = final as { status?: string; parts?: { type: string; data: unknown }[] } | null;
      const texts = msg?.parts?.filter((p) => p.type === 'text').map((p) => (p.data as { text?: string }).text ?? '') ?? [];
      const out = texts.length > 0 ? texts.join('\n') : reply;
      return { content: [{ type: 'text', text: out }], ...(msg?.status !== 'completed' && { isError: true }) };
    },
  },
};

/** Registers the tools `granted` allows on a session's server. */
export function registerTools(server: McpServer, granted: readonly Permission[], ctx: (extra: unknown) => ToolContext): void {
  for (const rule of TOOL_RULES) {
    if (toolDecision(rule.name, granted).kind !== 'allowed') continue;
    const def = TOOL_DEFS[rule.name];
    if (!def) throw new Error(`MCP tool ${rule.name} is in the policy table but has no definition`);
    server.registerTool(
      rule.name,
      { description: def.description, inputSchema: def.input, annotations: def.annotations },
      (args: Record<string, unknown>, extra: unknown) => def.run(args, ctx(extra)),
    );
  }
}
