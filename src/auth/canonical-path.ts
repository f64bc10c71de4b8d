// The one canonical form of a request path. Both the router (via Hono's `getPath` option) and the
// guard's policy use this exact result, so `//pty`, `/%70ty`, `/file/../pty`, `/pty/` and the like
// are decided on the same path they are routed on. Pure.

export type CanonicalPath = { ok: true; path: string } | { ok: false; path: string; problem: string };

const MAX_PATH = 8192;

/** Raw path (still encoded) from a request URL string, without query or fragment. */
export function rawPathOf(url: string): string {
  const schemeEnd = url.indexOf('://');
  const start = schemeEnd === -1 ? url.indexOf('/') : url.indexOf('/', schemeEnd + 3);
  if (start === -1) return '/';
  let end = url.length;
  const q = url.indexOf('?', start);
  if (q !== -1) end = q;
  const h = url.indexOf('#', start);
  if (h !== -1 && h < end) end = h;
  return url.slice(start, end);
}

/**
 * Decodes percent-escapes once (including %2F), turns backslashes into slashes, collapses repeated
 * slashes, resolves `.` and `..` (never above the root) and drops a trailing slash. Case is kept:
 * routes are case-sensitive, the policy compares case-insensitively.
 */
export function canonicalPath(raw: string): CanonicalPath {
  if (isAlreadyCanonical(raw)) return { ok: true, path: raw };
  return canonicalPathSlow(raw);
}

/**
 * Whether `raw` is its own canonical form, so the full pass below would return it unchanged: it
 * starts with `/`, is not over the limit, and has no `%`, `\`, control character, empty segment
 * (`//`, a trailing `/`) or `.`/`..` segment. One scan instead of decode, regex, split and join on
 * every request (nearly every path a client sends is like this). Anything else takes the full pass.
 */
export function isAlreadyCanonical(raw: string): boolean {
  const n = raw.length;
  if (n > MAX_PATH || n === 0 || raw.charCodeAt(0) !== 0x2f) return false;
  if (n === 1) return true; // "/"
  let segStart = 1;
  for (let i = 1; i <= n; i++) {
    const c = i === n ? 0x2f : raw.charCodeAt(i);
    if (c === 0x2f) {
      const len = i - segStart;
      if (len === 0) return false; // "//" or a trailing "/"
      if (raw.charCodeAt(segStart) === 0x2e && (len === 1 || (len === 2 && raw.charCodeAt(segStart + 1) === 0x2e))) return false;
      segStart = i + 1;
    } else if (c < 0x20 || c === 0x7f || c === 0x25 || c === 0x5c) return false; // control, %, \
  }
  return true;
}

/** The full pass (also the reference the fast check is tested against). */
export function canonicalPathSlow(raw: string): CanonicalPath {
  if (raw.length > MAX_PATH) return { ok: false, path: '/', problem: `path longer than ${MAX_PATH} characters` };
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return { ok: false, path: raw, problem: 'path has an invalid percent-encoding' };
  }
  // Control characters (NUL, CR, LF, ...) never belong in a route.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return { ok: false, path: raw, problem: 'path contains a control character' };
  const out: string[] = [];
  for (const seg of decoded.replace(/\\/g, '/').split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return { ok: true, path: '/' + out.join('/') };
}
