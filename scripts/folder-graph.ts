// The folder-level import graph of src/: which top-level folder (auth, server, pty, ...) imports
// which, read from the import statements of every .ts file. Static, type-only and lazy `import()`
// imports all count: a type import is still a dependency of the design, and a lazy one is still a
// dependency at run time. Files directly in src/ (errors.ts, events.ts, log.ts, paths.ts) form the
// folder `src`. test/house/folder-graph.test.ts fails on any cycle in this graph.
//
//   node --import tsx scripts/folder-graph.ts [--files] [src-dir]
//
// prints one line per folder: `folder -> folders it imports`, lazy-only edges marked `(lazy)`;
// `--files` also lists the file-level imports that cross folders.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type ImportKind = 'static' | 'type' | 'lazy';

export interface FileImport {
  /** Paths relative to the src directory, with `/` separators: `auth/middleware.ts`. */
  from: string;
  to: string;
  kind: ImportKind;
}

/** The folder a src-relative file belongs to: its first path segment, or `src` for top-level files. */
export function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? 'src' : file.slice(0, slash);
}

function tsFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...tsFiles(dir, r));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
  }
  return out.sort();
}

/** Every module specifier in one file, with how it is imported. */
export function moduleSpecifiers(fileName: string, text: string): { specifier: string; kind: ImportKind }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: { specifier: string; kind: ImportKind }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, kind: typeOnly ? 'type' : 'static' });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, kind: node.isTypeOnly ? 'type' : 'static' });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push({ specifier: node.moduleReference.expression.text, kind: node.isTypeOnly ? 'type' : 'static' });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, kind: 'lazy' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      // `import('ws').WebSocket` in a type position.
      found.push({ specifier: node.argument.literal.text, kind: 'type' });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Resolves a relative specifier (`../auth/token.js`) to a src-relative .ts path, or null when it leaves src. */
function resolveInSrc(srcDir: string, fromFile: string, specifier: string): string | null {
  const abs = path.resolve(srcDir, path.dirname(fromFile), specifier);
  const rel = path.relative(srcDir, abs).split(path.sep).join('/');
  if (rel.startsWith('../') || path.isAbsolute(rel)) return null;
  const candidates = [rel.replace(/\.js$/, '.ts'), rel, `${rel}.ts`, `${rel}/index.ts`];
  return candidates.find((c) => fs.existsSync(path.join(srcDir, c)) && fs.statSync(path.join(srcDir, c)).isFile()) ?? rel.replace(/\.js$/, '.ts');
}

/** Every import between project files under `srcDir` (packages and `node:` modules are left out). */
export function collectImports(srcDir: string): FileImport[] {
  const out: FileImport[] = [];
  for (const file of tsFiles(srcDir)) {
    const text = fs.readFileSync(path.join(srcDir, file), 'utf8');
    for (const { specifier, kind } of moduleSpecifiers(file, text)) {
      if (!specifier.startsWith('.')) continue;
      const to = resolveInSrc(srcDir, file, specifier);
      if (to !== null) out.push({ from: file, to, kind });
    }
  }
  return out;
}

/**
 * What loading `entries` loads before any lazy `import()` runs: the src files reached through
 * static, non-type imports, and the packages they name (`node:` modules left out).
 */
export function staticClosure(srcDir: string, entries: readonly string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const { specifier, kind } of moduleSpecifiers(file, fs.readFileSync(path.join(srcDir, file), 'utf8'))) {
      if (kind !== 'static') continue;
      if (specifier.startsWith('.')) {
        const to = resolveInSrc(srcDir, file, specifier);
        if (to !== null) queue.push(to);
      } else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
  }
  return { files, packages };
}

/** Folder -> folder -> whether every import along that edge is lazy. Edges within a folder are left out. */
export type FolderGraph = Map<string, Map<string, { lazyOnly: boolean }>>;

export function folderGraph(imports: readonly FileImport[], files: readonly string[] = []): FolderGraph {
  const graph: FolderGraph = new Map();
  const node = (f: string) => {
    let m = graph.get(f);
    if (!m) {
      m = new Map();
      graph.set(f, m);
    }
    return m;
  };
  for (const f of files) node(folderOf(f));
  for (const i of imports) {
    const a = folderOf(i.from);
    const b = folderOf(i.to);
    node(b);
    if (a === b) {
      node(a);
      continue;
    }
    const edges = node(a);
    const prev = edges.get(b);
    edges.set(b, { lazyOnly: (prev?.lazyOnly ?? true) && i.kind === 'lazy' });
  }
  return graph;
}

/** The cycles of the graph: each strongly connected component with more than one folder, sorted. */
export function folderCycles(graph: FolderGraph): string[][] {
  // Tarjan's algorithm.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One line per folder, folders and their targets sorted: `cli -> auth, client, server (lazy)`. */
export function formatGraph(graph: FolderGraph): string {
  return [...graph.keys()]
    .sort()
    .map((f) => {
      const targets = [...graph.get(f)!].sort(([a], [b]) => a.localeCompare(b)).map(([t, e]) => (e.lazyOnly ? `${t} (lazy)` : t));
      return `${f} -> ${targets.length ? targets.join(', ') : '(nothing)'}`;
    })
    .join('\n');
}

/** The graph of a src directory, with every folder listed even when it imports nothing. */
export function srcFolderGraph(srcDir: string): { imports: FileImport[]; graph: FolderGraph } {
  const imports = collectImports(srcDir);
  return { imports, graph: folderGraph(imports, tsFiles(srcDir)) };
}

function main(argv: string[]): void {
  const files = argv.includes('--files');
  const dirArg = argv.find((a) => !a.startsWith('--'));
  const srcDir = path.resolve(dirArg ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src'));
  const { imports, graph } = srcFolderGraph(srcDir);
  process.stdout.write(formatGraph(graph) + '\n');
  const cycles = folderCycles(graph);
  if (cycles.length) process.stdout.write(`\ncycles:\n${cycles.map((c) => `  ${c.join(' <-> ')}`).join('\n')}\n`);
  if (files) {
    const crossing = imports.filter((i) => folderOf(i.from) !== folderOf(i.to));
    const lines = new Set(crossing.map((i) => `${i.from} -> ${i.to}${i.kind === 'static' ? '' : ` (${i.kind})`}`));
    process.stdout.write(`\n${[...lines].sort().join('\n')}\n`);
  }
  if (cycles.length) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
