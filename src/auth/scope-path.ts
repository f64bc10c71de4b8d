// Whether one real path lies inside another, by whole path components. Pure and import-free, so
// that both scope.ts (where a scoped token may go) and policy.ts (what a pairing code may grant)
// compare paths the same way without importing each other.
import path from 'node:path';

/** A `.` or `..` component, or a doubled separator: what path.normalize would change. */
const NOT_NORMAL = /\/\/|\/\.\.?(\/|$)/;

/** Absolute, and already normal: no `.` or `..` component, no doubled separator. */
export function normal(p: string): boolean {
  return p.startsWith('/') && !NOT_NORMAL.test(p);
}

/** `p` is `dir` or lies inside it; both already normal. */
export function under(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/**
 * `p` is `dir` or lies inside it. Both must be normal absolute paths: a path with a `..` in it
 * (which no real path has) matches nothing, rather than being read as a string prefix.
 */
export function within(dir: string, p: string): boolean {
  return normal(p) && normal(dir) && under(dir, p);
}
