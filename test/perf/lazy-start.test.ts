// Start-up loads only what it needs (issue 15 item 5, and DESIGN: "CLI start-up stays lean").
//
// `serve` runs one CommonJS bundle (src/cli/launch.ts) where esbuild wraps each module in an
// initialiser named after its source file, run on the module's first import: V8's coverage counts
// tell which ran. Other commands run ES module chunks: an import hook records which were loaded,
// mapped back to their sources through esbuild's metafile.
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
const SERVE_BUNDLE = path.join(ROOT, 'dist', 'bundle', 'serve.cjs');

let child: ChildProcess | undefined;
let t: TempEnv | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) await new Promise((r) => (child!.once('exit', r), child!.kill('SIGTERM')));
  t?.cleanup();
});

/** Starts serve with V8 coverage on, runs `then` against it, stops it: the initialisers that ran. */
async function serveAndRecord(then: (url: string) => Promise<void>): Promise<Map<string, number>> {
  const coverage = fs.mkdtempSync(path.join(t!.root, 'coverage-'));
  child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', t!.root], {
    env: { ...t!.env, NODE_V8_COVERAGE: coverage },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 20_000, what: 'serve to listen' });
  await then(url);
  const exited = new Promise((r) => child!.once('exit', r));
  child.kill('SIGTERM');
  expect(await exited).toBe(0); // coverage is written by a clean exit
  const runs = new Map<string, number>();
  for (const f of fs.readdirSync(coverage)) {
    const { result } = JSON.parse(fs.readFileSync(path.join(coverage, f), 'utf8')) as {
      result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[];
    };
    for (const script of result.filter((s) => s.url.endsWith('/dist/bundle/serve.cjs'))) {
      for (const fn of script.functions) if (/^(dist|node_modules)\//.test(fn.functionName)) runs.set(fn.functionName, fn.ranges[0].count);
    }
  }
  return runs;
}

/** The initialisers in the bundle whose source path matches. */
function initialisers(re: RegExp): string[] {
  const names = new Set<string>();
  for (const m of fs.readFileSync(SERVE_BUNDLE, 'utf8').matchAll(/"((?:dist|node_modules)\/[^"]+)"\(/g)) if (re.test(m[1])) names.add(m[1]);
  return [...names];
}

/** `tether auth token list` in the current temp env with `--import module` and extra env: its exit code. */
function tokenListWith(module: string, env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', module, BIN, 'auth', 'token', 'list'], { env: { ...t!.env, ...env }, stdio: 'ignore' });
    c.once('exit', resolve);
  });
}

const ran = (runs: Map<string, number>, names: string[]) => names.filter((n) => (runs.get(n) ?? 0) > 0);

describe('lazy start-up', () => {
  it('serve answers /health with neither SDK run; /mcp runs the MCP SDK on first use and works', async () => {
    t = tempEnv();
    const created = await runCli(['auth', 'token', 'create', '--json', '--permissions', 'read'], t.env);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const mcpSdk = initialisers(/@modelcontextprotocol\/sdk\//);
    const heavy = [...mcpSdk, ...initialisers(/^node_modules\/ai\/|@ai-sdk\/|^dist\/agent\/agent\.js$|^dist\/mcp\/sessions\.js$/)];
    // Not vacuous: the names are there to be counted, and what start-up does need is seen running.
    expect(mcpSdk.length).toBeGreaterThan(10);
    expect(heavy).toContain('dist/agent/agent.js');

    const atHealth = await serveAndRecord(async (url) => {
      expect((await fetch(`${url}/health`)).status).toBe(200);
    });
    expect(ran(atHealth, ['dist/server/routes/mcp.js', 'dist/session/service.js'])).toHaveLength(2);
    expect(ran(atHealth, heavy)).toEqual([]);

    const afterMcp = await serveAndRecord(async (url) => {
      const r = await mcpInitialize(url, token);
      expect(r.status).toBe(200);
      expect(r.headers.get('mcp-session-id')).toBeTruthy();
      await r.text();
    });
    expect(ran(afterMcp, mcpSdk).length).toBeGreaterThan(0);
    expect(ran(afterMcp, ['dist/mcp/sessions.js'])).toHaveLength(1);
  }, 60_000);

  it('`tether auth token list` loads neither the server, nor terminals, nor sessions, nor an SDK, nor node:crypto, node:zlib or node:vm', async () => {
    t = tempEnv();
    await runCli(['auth', 'token', 'create', '--name', 'a'], t.env);
    const imports = path.join(t.root, 'imports.txt');
    expect(await tokenListWith(HOOK, { TETHER_TEST_IMPORTS: imports })).toBe(0);
    const loaded = sourcesLoaded(imports);
    expect(loaded).toMatch(/dist\/cli\/auth-token\.js/); // the command itself, so the mapping works
    expect(loaded).toMatch(/^node:fs$/m); // builtins are recorded too
    // Native addons are loaded with require, which the hook does not see: the modules that load
    // them (dist/pty/, dist/session/) stand for them.
    // node:zlib and node:vm are serve's code cache (src/cli/code-cache.ts); node:crypto and zlib load
    // on first use (token-format.ts).
    const builtins = [/^node:zlib$/m, /^node:vm$/m, /^node:crypto$/m];
    for (const heavy of [
      /dist\/server\//,
      /dist\/pty\//,
      /dist\/session\//,
      /@modelcontextprotocol\/sdk/,
      /\/node_modules\/ai\//,
      /dist\/agent\//,
      ...builtins,
    ]) {
      expect(loaded, String(heavy)).not.toMatch(heavy);
    }
  });

  it('`tether auth token list` does not load node:child_process (commander requires it eagerly; the bundle defers it)', async () => {
    t = tempEnv();
    await runCli(['auth', 'token', 'create', '--name', 'a'], t.env);
    const list = path.join(t.root, 'builtins.txt');
    // Node's own record of the builtins it loaded, written at exit: it sees require() too, which
    // the import hook above does not.
    const record = `data:text/javascript,import fs from 'node:fs'; process.on('exit', () => fs.writeFileSync(process.env.TETHER_TEST_BUILTINS, process.moduleLoadList.join('\\n')));`;
    expect(await tokenListWith(record, { TETHER_TEST_BUILTINS: list })).toBe(0);
    const loaded = fs.readFileSync(list, 'utf8');
    expect(loaded).toMatch(/^NativeModule fs$/m); // the list is what it claims to be
    for (const heavy of [/^NativeModule child_process$/m, /^NativeModule net$/m, /^NativeModule dgram$/m]) expect(loaded, String(heavy)).not.toMatch(heavy);
  });
});

/**
 * The sources behind the modules a process loaded, one per line: the ES module chunks of the CLI
 * bundle (scripts/bundle-cli.js) are mapped back to the files in them through esbuild's metafile;
 * anything else loaded (native addons' loaders, node_modules outside the bundle) as is.
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
