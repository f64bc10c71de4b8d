// Project files as MCP resources: `tether://file/{+path}` (path relative to the project). Listing and
// reading go through the API like the tools (api.ts), so confinement, reserved paths and scopes apply.
// The scheme is tether's own, not file://, because the files live on the server, not the client.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { apiErrorText, type ApiCaller } from './api.js';

export const RESOURCE_PREFIX = 'tether://file/';
/** resources/list is a bounded breadth-first listing: at most this many files, this many directories read. */
const LIST_MAX_FILES = 500;
const LIST_MAX_DIRS = 200;

interface Listing {
  entries: { name: string; path: string; type: string; size?: number }[];
}

export function resourceUri(rel: string): string {
  return RESOURCE_PREFIX + rel.split('/').map(encodeURIComponent).join('/');
}

/** The project-relative path a resource URI names, or null when it is not one of ours. */
export function resourcePath(uri: string): string | null {
  if (!uri.startsWith(RESOURCE_PREFIX)) return null;
  try {
    const rel = uri.slice(RESOURCE_PREFIX.length).split('/').map(decodeURIComponent).join('/');
    return rel === '' ? null : rel;
  } catch {
    return null;
  }
}

async function listFiles(caller: ApiCaller) {
  const files: { uri: string; name: string; mimeType?: string; size?: number }[] = [];
  const queue = ['.'];
  let dirs = 0;
  while (queue.length > 0 && files.length < LIST_MAX_FILES && dirs < LIST_MAX_DIRS) {
    const dir = queue.shift()!;
    dirs++;
    const r = await caller.json('GET', '/file', { query: { path: dir } });
    if (r.status !== 200) continue; // unreadable or outside a scope: skipped, as in a listing
    for (const e of (r.body as Listing).entries) {
      if (e.type === 'directory') queue.push(e.path);
      else if (e.type === 'file' && files.length < LIST_MAX_FILES)
        files.push({ uri: resourceUri(e.path), name: e.path, ...(e.size !== undefined && { size: e.size }) });
    }
  }
  return files;
}

export function registerResources(server: McpServer, caller: (extra: unknown) => ApiCaller): void {
  const template = new ResourceTemplate(`${RESOURCE_PREFIX}{+path}`, {
    list: async (extra) => ({ resources: await listFiles(caller(extra)) }),
  });
  server.registerResource(
    'project-file',
    template,
    { description: 'A file of the project, by its path relative to the project', mimeType: 'text/plain' },
    async (uri, _vars, extra): Promise<ReadResourceResult> => {
      const rel = resourcePath(uri.href);
      if (rel === null) throw new Error(`not a tether file URI: ${uri.href} (expected ${RESOURCE_PREFIX}<path>)`);
      const r = await caller(extra).json('GET', '/file/content', { query: { path: rel } });
      if (r.status !== 200) throw new Error(apiErrorText(r));
      const f = r.body as { encoding: 'utf8' | 'base64'; content: string };
      return {
        contents: [
          f.encoding === 'utf8'
            ? { uri: uri.href, mimeType: 'text/plain', text: f.content }
            : { uri: uri.href, mimeType: 'application/octet-stream', blob: f.content },
        ],
      };
    },
  );
}
