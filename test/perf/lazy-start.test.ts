// `tether serve` answers its first request without loading the MCP SDK or the AI SDK (start-up
// time, issue 15 item 5); both still load, and work, on first use.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { mcpInitialize } from '../helpers/mcp.js';

const HOOK = path.resolve(import.meta.dirname, '../fixtures/perf/record-imports.mjs');
const ROOT = path.resolve(import.meta.dirname, '../..');
const HEAVY = [/@modelcontextprotocol\/sdk/, /\/node_modules\/ai\//, /@ai-sdk\//, /\/dist\/agent\/agent\.js/, /\/dist\/mcp\/sessions\.js/];

let child: ChildProcess | undefined;
let t: TempEnv | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) await new Promise((r) => (child!.once('exit', r), child!.kill('SIGTERM')));
  t?.cleanup();
});

describe('lazy start-up', () => {
  it('serve answers /health with neither SDK loaded; /mcp loads the MCP SDK on first use and works', async () => {
    t = tempEnv();
    const created = await runCli(['auth', 'token', 'create', '--json', '--permissions', 'read'], t.env);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const imports = path.join(t.root, 'imports.txt');
    child = spawn(process.execPath, ['--import', HOOK, BIN, 'serve', '--port', '0', '--project', t.root], {
      env: { ...t.env, TETHER_TEST_IMPORTS: imports },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 20_000, what: 'serve to listen' });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const loaded = sourcesLoaded(imports);
    expect(loaded).toMatch(/dist\/server\/routes\/mcp\.js/); // the route itself is registered
    expect(loaded).toMatch(/dist\/session\/service\.js/);
    for (const heavy of HEAVY) expect(loaded, String(heavy)).not.toMatch(heavy);

    const r = await mcpInitialize(url, token);
    expect(r.status).toBe(200);
    expect(r.headers.get('mcp-session-id')).toBeTruthy();
    await r.text();
    expect(sourcesLoaded(imports)).toMatch(/@modelcontextprotocol\/sdk/);
  }, 60_000);
});

/**
 * The sources behind the modules a process loaded, one per line: bin/tether.js runs the CLI bundle
 * (scripts/bundle-cli.js), whose chunks are mapped back to the files in them through esbuild's
 * metafile; anything else loaded (native addons' loaders, node_modules outside the bundle) as is.
 */
function sourcesLoaded(importsFile: string): string {
  const meta = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const lines: string[] = [];
  for (const url of fs.readFileSync(importsFile, 'utf8').split('\n').filter(Boolean)) {
    const rel = url.startsWith('file://') ? path.relative(ROOT, new URL(url).pathname) : url;
    const chunk = meta.outputs[rel];
    lines.push(
      chunk
        ? Object.keys(chunk.inputs)
            .map((input) => path.join(ROOT, input))
            .join('\n')
        : url,
    );
  }
  return lines.join('\n');
}
