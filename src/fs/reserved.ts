import fs from 'node:fs';
import path from 'node:path';
import { configDir, dataDir, stateDir } from '../paths.js';

// tether's own directories (config, data, state: the token file, saved credentials, settings, the
// sessions database with its WAL/SHM, locks, temp files) are reserved: the file routes, both
// searches and the agent's file tools never read, list or write them, even when the project
// contains them (`--project ~`). A read token must not be able to read a full token.
//
// A path is reserved if it is, or lies inside, a reserved directory. Matching is done three ways,
// so no spelling reaches them: by real path (symlinks and `..` already resolved by the caller);
// by the same path case-folded (a case-insensitive mount hands back the spelling it was asked for);
// and by identity, comparing the device and inode of the path and each of its ancestors with the
// reserved directories' (aliases such as bind mounts, and any other spelling of the same directory).

/** A reserved directory, or (for a file configured directly inside or above the project) one file and its companions. */
interface Spec {
  dir: string;
  /** Set: only names in `dir` starting with this (the file, `.lock`, `.tmp-*`), not the whole dir. */
  prefix?: string;
}

interface Entry extends Spec {
  real: string;
  folded: string;
  foldedPrefix?: string;
  /** `dev:ino` of the directory, when it exists. */
  id?: string;
}

const REFRESH_MS = 1000;

export function fold(p: string): string {
  return p.normalize('NFC').toLowerCase();
}

export function idOf(st: { dev: number | bigint; ino: number | bigint }): string {
  return `${st.dev}:${st.ino}`;
}

function within(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/** Real path of `p`'s deepest existing ancestor joined with the rest (reserved dirs may not exist yet). */
function realpathAllowMissing(p: string): string {
  const rest: string[] = [];
  let cur = path.resolve(p);
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = path.dirname(cur);
      if (parent === cur) return path.resolve(p);
      rest.push(path.basename(cur));
      cur = parent;
    }
  }
}

export class ReservedPaths {
  private entries: Entry[] = [];
  private ids = new Set<string>();
  private refreshedAt = -Infinity;

  constructor(private readonly specs: readonly Spec[]) {
    this.refresh();
  }

  /**
   * By name only (exact and case-folded): is the real path `p` reserved? Cheap; used on every
   * entry of a walk, where directories were already checked by identity on the way down.
   */
  matchesName(p: string): boolean {
    this.maybeRefresh();
    const f = fold(p);
    for (const e of this.entries) {
      if (e.prefix === undefined) {
        if (within(e.real, p) || within(e.folded, f)) return true;
      } else if ((path.dirname(p) === e.real || fold(path.dirname(p)) === e.folded) && fold(path.basename(p)).startsWith(e.foldedPrefix!)) {
        return true;
      }
    }
    return false;
  }

  /** By identity: is the directory with this stat a reserved directory? */
  isReservedDir(st: { dev: number | bigint; ino: number | bigint }): boolean {
    this.maybeRefresh();
    return this.ids.has(idOf(st));
  }

  /** A name inside a directory with identity `dirId` that is one of the reserved files (prefix entries). */
  private matchesPrefixById(dirId: string, name: string): boolean {
    return this.entries.some((e) => e.prefix !== undefined && e.id === dirId && fold(name).startsWith(e.foldedPrefix!));
  }

  /**
   * The full check of a real path: by name, then by the identity of the path and of every
   * ancestor (a stat each). Paths that do not exist are judged by name only. With `root` (a real
   * path containing `p`), the walk stops there and uses the root's verdict, cached for a second.
   */
  async isReserved(p: string, root?: string): Promise<boolean> {
    if (this.matchesName(p)) return true;
    let cur = p;
    let child: string | undefined;
    for (;;) {
      let id: string | undefined;
      if (cur === root) {
        const r = await this.rootVerdict(root);
        if (r.reserved) return true;
        id = r.id;
      } else {
        const st = await fs.promises.stat(cur, { bigint: true }).catch(() => null);
        if (st?.isDirectory()) {
          id = idOf(st);
          if (this.ids.has(id)) return true;
        }
      }
      if (id !== undefined && child !== undefined && this.matchesPrefixById(id, child)) return true;
      const parent = path.dirname(cur);
      if (parent === cur || cur === root) return false;
      child = path.basename(cur);
      cur = parent;
    }
  }

  private roots = new Map<string, { at: number; verdict: Promise<{ reserved: boolean; id?: string }> }>();

  /** Whether a root (the project, a session directory) is itself reserved or inside a reserved directory. */
  private rootVerdict(root: string): Promise<{ reserved: boolean; id?: string }> {
    const cached = this.roots.get(root);
    if (cached && Date.now() - cached.at < REFRESH_MS) return cached.verdict;
    const verdict = (async () => {
      const st = await fs.promises.stat(root, { bigint: true }).catch(() => null);
      return { reserved: await this.isReserved(root), ...(st ? { id: idOf(st) } : {}) };
    })();
    if (this.roots.size > 100) this.roots.clear();
    this.roots.set(root, { at: Date.now(), verdict });
    return verdict;
  }

  /** Which reserved entries lie inside `dir` (a real path), by name or identity of an ancestor. */
  inside(dir: string): string[] {
    this.maybeRefresh();
    const real = realpathAllowMissing(dir);
    return this.entries.filter((e) => within(real, e.real) || within(fold(real), e.folded)).map((e) => (e.prefix ? path.join(e.real, e.prefix) : e.real));
  }

  private maybeRefresh(): void {
    if (Date.now() - this.refreshedAt >= REFRESH_MS) this.refresh();
  }

  /** Real paths and identities, re-read now and then: a reserved directory may be created later. */
  private refresh(): void {
    this.refreshedAt = Date.now();
    const entries: Entry[] = [];
    const ids = new Set<string>();
    for (const spec of this.specs) {
      const lexical = path.resolve(spec.dir);
      for (const real of new Set([realpathAllowMissing(lexical), lexical])) {
        const e: Entry = { ...spec, real, folded: fold(real), ...(spec.prefix ? { foldedPrefix: fold(spec.prefix) } : {}) };
        try {
          const st = fs.statSync(real, { bigint: true });
          if (st.isDirectory()) {
            e.id = idOf(st);
            if (!spec.prefix) ids.add(e.id);
          }
        } catch {
          // not created yet: matched by name until it exists
        }
        entries.push(e);
      }
    }
    this.entries = entries;
    this.ids = ids;
  }
}

/** tether's own directories, from the environment now. */
export function defaultReservedDirs(): string[] {
  return [configDir(), dataDir(), stateDir()];
}

/**
 * The reserved paths of a server: its config, data and state directories, plus the directories of
 * files configured elsewhere (token file, settings file). A configured file whose directory is the
 * project or above it reserves only itself and its companions (lock, temp files), not the whole
 * project.
 */
export function reservedPaths(projectDir: string, files: readonly (string | undefined)[] = []): ReservedPaths {
  const project = realpathAllowMissing(projectDir);
  const specs: Spec[] = defaultReservedDirs().map((dir) => ({ dir }));
  for (const f of files) {
    if (!f) continue;
    const dir = path.dirname(path.resolve(f));
    if (within(realpathAllowMissing(dir), project)) specs.push({ dir, prefix: path.basename(f) });
    else specs.push({ dir });
  }
  return new ReservedPaths(specs);
}

/** tether's own directories that lie inside `projectDir` (for the warning `serve` prints). */
export function reservedDirsInside(projectDir: string, reserved: ReservedPaths = reservedPaths(projectDir)): string[] {
  return [...new Set(reserved.inside(projectDir))];
}

/** The one-line warning for `serve`, or null when the project holds none of tether's directories. */
export function reservedWarning(projectDir: string, reserved?: ReservedPaths): string | null {
  const inside = reservedDirsInside(projectDir, reserved);
  if (inside.length === 0) return null;
  return (
    `note: the project contains tether's own files (${inside.join(', ')}); the file API refuses them ` +
    `(403 path_reserved), and listings and searches skip them.`
  );
}
