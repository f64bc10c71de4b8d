// Hono's `getPath` hook: the router matches the canonical path, and the guard reads the same
// result for the same Request object (WeakMap), so the two can never disagree.
import { canonicalPath, rawPathOf, type CanonicalPath } from './canonical-path.js';

const seen = new WeakMap<Request, CanonicalPath>();

export function getCanonicalPath(request: Request): string {
  const info = canonicalPath(rawPathOf(request.url));
  seen.set(request, info);
  return info.path;
}

export function pathInfo(request: Request): CanonicalPath {
  let info = seen.get(request);
  if (!info) {
    info = canonicalPath(rawPathOf(request.url));
    seen.set(request, info);
  }
  return info;
}
