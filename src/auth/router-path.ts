// Hono's `getPath` hook: the router matches the canonical path, and the guard reads the same
// result for the same Request object, so the two can never disagree. The result is kept on the
// Request under a module-private symbol (nothing else can name it, so nothing else can set it):
// cheaper per request than a WeakMap entry, with the same lifetime as the Request.
import { canonicalPath, rawPathOf, type CanonicalPath } from './canonical-path.js';

const SEEN = Symbol('tether.canonicalPath');
type Marked = Request & { [SEEN]?: CanonicalPath };

export function getCanonicalPath(request: Request): string {
  const info = canonicalPath(rawPathOf(request.url));
  (request as Marked)[SEEN] = info;
  return info.path;
}

export function pathInfo(request: Request): CanonicalPath {
  let info = (request as Marked)[SEEN];
  if (!info) {
    info = canonicalPath(rawPathOf(request.url));
    (request as Marked)[SEEN] = info;
  }
  return info;
}
