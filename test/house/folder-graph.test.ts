// House rules on the shape of src/ (DESIGN section 4), read from the import statements by
// scripts/folder-graph.ts: no folder-level import cycle, routes never import server.ts, auth imports
// nothing from server, every route registration sits in routes/index.ts, and the CLI's token
// commands load neither the server nor zod. Each detector is also shown to fire on a made-up tree.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { collectImports, folderCycles, folderGraph, formatGraph, srcFolderGraph, staticClosure, type FileImport } from '../../scripts/folder-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = path.join(ROOT, 'src');
const { imports, graph } = srcFolderGraph(SRC);

const show = (list: FileImport[]) => list.map((i) => `${i.from} -> ${i.to} (${i.kind})`);
const routeImportsOfServer = (list: FileImport[]) => list.filter((i) => i.from.startsWith('server/routes/') && i.to === 'server/server.ts');
const authImportsOfServer = (list: FileImport[]) => list.filter((i) => i.from.startsWith('auth/') && i.to.startsWith('server/'));

const temps: string[] = [];
afterAll(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A throwaway src tree: { 'a/x.ts': "import '../b/y.js';" }. */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-graph-'));
  temps.push(dir);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

describe('the folder graph of src/', () => {
  it('has no cycle', () => {
    expect(folderCycles(graph), formatGraph(graph)).toEqual([]);
  });

  it('routes never import src/server/server.ts', () => {
    expect(show(routeImportsOfServer(imports))).toEqual([]);
  });

  it('src/auth/ imports nothing from src/server/', () => {
    expect(show(authImportsOfServer(imports))).toEqual([]);
    expect(graph.get('auth')?.has('server')).toBe(false);
  });

  it('every route registration is listed in src/server/routes/index.ts', () => {
    // Outside routes/, only index.ts is imported.
    const outside = imports.filter((i) => !i.from.startsWith('server/routes/') && i.to.startsWith('server/routes/') && i.to !== 'server/routes/index.ts');
    expect(show(outside)).toEqual([]);
    // Every route module is reached from index.ts (helpers through the route that uses them).
    const reached = new Set(['server/routes/index.ts']);
    for (let grew = true; grew;) {
      grew = false;
      for (const i of imports) {
        if (reached.has(i.from) && i.to.startsWith('server/routes/') && !reached.has(i.to)) {
          reached.add(i.to);
          grew = true;
        }
      }
    }
    const routeFiles = fs
      .readdirSync(path.join(SRC, 'server', 'routes'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `server/routes/${f}`);
    expect(routeFiles.filter((f) => !reached.has(f))).toEqual([]);
    // And no file outside routes/ adds a route to the app itself.
    const defining = fs
      .readdirSync(SRC, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.startsWith(path.join('server', 'routes') + path.sep))
      .filter((f) => /\bapp\.(get|post|put|patch|delete|all|on|openapi|doc|doc31|route)\(/.test(fs.readFileSync(path.join(SRC, f), 'utf8')));
    expect(defining).toEqual([]);
  });

  it('`tether auth token ...` loads neither the server, terminals, agent sessions, the agent nor zod', () => {
    const { files, packages } = staticClosure(SRC, ['cli/main.ts', 'cli/auth-token.ts']);
    expect([...files].filter((f) => /^(server|pty|session|agent|client)\//.test(f))).toEqual([]);
    expect([...packages].filter((p) => ['zod', 'hono', 'node-pty', 'ai', 'ws'].includes(p) || p.startsWith('@hono/') || p.startsWith('@ai-sdk/'))).toEqual([]);
  });

  it('the server loads terminals, agent sessions and the agent only when productionRegistrars() runs', () => {
    const { files, packages } = staticClosure(SRC, ['server/server.ts']);
    expect(files.has('server/routes/index.ts')).toBe(true);
    expect([...files].filter((f) => /^(pty|session|agent)\/|^server\/routes\/(pty|session|web)\.ts$/.test(f))).toEqual([]);
    expect([...packages].filter((p) => ['node-pty', 'ai'].includes(p) || p.startsWith('@ai-sdk/'))).toEqual([]);
    const lazy = imports.filter((i) => i.from === 'server/routes/index.ts' && i.kind === 'lazy').map((i) => i.to);
    expect(lazy.sort()).toEqual(['server/routes/mcp.ts', 'server/routes/pty.ts', 'server/routes/session.ts', 'server/routes/web.ts']);
  });

  it('the script prints one line per folder and exits 0', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'folder-graph.ts')], { cwd: ROOT });
    const lines = stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' -> ')[0])).toEqual([...graph.keys()].sort());
    expect(lines).toContain(
      formatGraph(graph)
        .split('\n')
        .find((l) => l.startsWith('auth -> ')),
    );
  });
});

describe('the detectors fire', () => {
  it('finds a two-folder cycle through a type-only import, and a longer one through lazy and re-exports', () => {
    const dir = tree({
      'a/x.ts': "import type { Y } from '../b/y.js';\nexport type X = Y;",
      'b/y.ts': "import { z } from '../a/z.js';\nexport type Y = typeof z;",
      'a/z.ts': 'export const z = 1;',
      'c/p.ts': "export * from '../d/q.js';",
      'd/q.ts': "export const q = () => import('../e/r.js');",
      'e/r.ts': "export type R = import('../c/p.js').Nothing;",
      'f/s.ts': "import '../a/z.js';",
    });
    const g = folderGraph(collectImports(dir));
    expect(folderCycles(g)).toEqual([
      ['a', 'b'],
      ['c', 'd', 'e'],
    ]);
    expect(formatGraph(g)).toContain('d -> e (lazy)');
  });

  it('finds nothing in an acyclic tree, and ignores imports within a folder and of packages', () => {
    const dir = tree({
      'a/x.ts': "import './y.js';\nimport 'zod';\nimport '../b/y.js';",
      'a/y.ts': "import '../top.js';",
      'b/y.ts': "import '../top.js';",
      'top.ts': "import fs from 'node:fs';",
    });
    const g = folderGraph(collectImports(dir));
    expect(folderCycles(g)).toEqual([]);
    expect(formatGraph(g)).toBe('a -> b, src\nb -> src\nsrc -> (nothing)');
  });

  it('flags a route importing server.ts and auth importing from server', () => {
    const dir = tree({
      'server/server.ts': "import './routes/x.js';",
      'server/log.ts': 'export {};',
      'server/routes/x.ts': "import type { S } from '../server.js';",
      'auth/guard.ts': "import type { Logger } from '../server/log.js';",
    });
    const list = collectImports(dir);
    expect(show(routeImportsOfServer(list))).toEqual(['server/routes/x.ts -> server/server.ts (type)']);
    expect(show(authImportsOfServer(list))).toEqual(['auth/guard.ts -> server/log.ts (type)']);
  });

  it('follows only static value imports into the start-up closure', () => {
    const dir = tree({
      'cli/main.ts': "import '../auth/a.js';\nimport type { T } from '../server/t.js';\nconst s = () => import('../server/s.js');",
      'auth/a.ts': "import { z } from 'zod';\nimport { p } from '@scope/pkg/sub';",
      'server/s.ts': "import 'node-pty';",
      'server/t.ts': 'export type T = 1;',
    });
    const { files, packages } = staticClosure(dir, ['cli/main.ts']);
    expect([...files].sort()).toEqual(['auth/a.ts', 'cli/main.ts']);
    expect([...packages].sort()).toEqual(['@scope/pkg', 'zod']);
  });
});
