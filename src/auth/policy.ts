// Which permissions a request needs: tables plus one function. Pure, imports nothing from the
// project but the permission vocabulary. The guard is its only caller; no route decides for itself.
//
// A request needs the union of three rules, so a table entry can only ever add to what the method
// and path already demand, never weaken it:
// 1. its method (GET/HEAD/OPTIONS read, POST/PUT/PATCH/DELETE write, anything else 405);
// 2. its first path segment (`pty`, `session`, `message` also need execute), and any WebSocket
//    upgrade needs read + execute;
// 3. the route table: every registered route has an entry (a test enforces it), which names what the
//    route lets its holder *reach* beyond its method (DESIGN 3a). Changing a setting needs execute,
//    because settings decide what runs and where prompts go.
import { PERMISSIONS, type Permission } from './permissions.js';

/** Method -> permission. Any method not listed is refused with 405. A Map, not an object, so
 * that names like `constructor` or `valueOf` find nothing. */
export const METHOD_PERMISSION: ReadonlyMap<string, Permission> = new Map([
  ['GET', 'read'],
  ['HEAD', 'read'],
  ['OPTIONS', 'read'],
  ['POST', 'write'],
  ['PUT', 'write'],
  ['PATCH', 'write'],
  ['DELETE', 'write'],
]);

/** First path segments whose every route also needs execute (compared case-insensitively). */
export const EXECUTE_SEGMENTS: ReadonlySet<string> = new Set(['pty', 'session', 'message']);

/**
 * Requests that need no token and hold no data: liveness, the web UI's static files (its login
 * page must load without a token), and the web login/logout exchange (login verifies the token it
 * is given; logout only ends the web login its own cookie names).
 */
export const PUBLIC_ROUTES: ReadonlyArray<{ methods: readonly string[]; path: string | RegExp }> = [
  { methods: ['GET', 'HEAD'], path: '/health' },
  { methods: ['GET', 'HEAD'], path: '/' },
  { methods: ['GET', 'HEAD'], path: /^\/ui(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/ },
  { methods: ['POST', 'DELETE'], path: '/auth/session' },
];

export interface RouteRule {
  /** Upper-case method; a GET rule also covers HEAD (the router answers HEAD with the GET handler). */
  method: string;
  /** Router syntax: `/pty/:id`; `*` as the last segment matches the rest. */
  path: string;
  /** Needed on top of the method and segment rules. */
  needs: readonly Permission[];
  /** Why, in a few words: printed by nothing, read by reviewers. */
  why: string;
}

const R = (method: string, path: string, needs: readonly Permission[], why: string): RouteRule => ({ method, path, needs, why });

/**
 * Every route the server registers. `needs` lists the permissions the route requires in full (the
 * method and segment rules would add them anyway where they apply; listing them keeps the table
 * readable on its own).
 */
export const ROUTE_RULES: readonly RouteRule[] = [
  R('GET', '/health', [], 'public: liveness only'),
  R('GET', '/', [], 'public: the web UI page'),
  R('GET', '/ui/*', [], 'public: the web UI static files'),
  R('POST', '/auth/session', [], 'public: web login verifies the token it is given'),
  R('DELETE', '/auth/session', [], 'public: ends only the web login its own cookie and key name'),
  R('GET', '/auth/whoami', ['read'], "the caller's own token metadata"),
  R('GET', '/doc', ['read'], 'the OpenAPI document'),
  R('GET', '/config', ['read'], 'settings, never the API key'),
  R('PATCH', '/config', ['write', 'execute'], 'settings decide what runs (shell) and where prompts go (model URL)'),
  R('GET', '/file', ['read'], 'project listing'),
  R('GET', '/file/content', ['read'], 'project file content'),
  R('GET', '/find/file', ['read'], 'project file names'),
  R('GET', '/find', ['read'], 'project file content search'),
  R('GET', '/event', ['read'], 'lifecycle events; interactive ones filtered by EVENT_PERMISSION'),
  R('GET', '/audit', ['read', 'execute'], 'the audit trail shows the commands that ran and who ran them'),
  R('GET', '/pty', ['read', 'execute'], 'terminals'),
  R('POST', '/pty', ['write', 'execute'], 'starts a program'),
  R('GET', '/pty/:id', ['read', 'execute'], 'a terminal'),
  R('PUT', '/pty/:id', ['write', 'execute'], 'resizes a terminal'),
  R('DELETE', '/pty/:id', ['write', 'execute'], 'ends a terminal'),
  R('POST', '/pty/:id/ticket', ['write', 'execute'], 'a ticket that opens the terminal'),
  R('GET', '/pty/:id/connect', ['read', 'execute'], 'the terminal stream (a WebSocket upgrade)'),
  R('GET', '/session', ['read', 'execute'], 'agent sessions'),
  R('POST', '/session', ['write', 'execute'], 'creates an agent session'),
  R('GET', '/session/:id', ['read', 'execute'], 'an agent session'),
  R('PATCH', '/session/:id', ['write', 'execute'], 'renames an agent session'),
  R('DELETE', '/session/:id', ['write', 'execute'], 'deletes an agent session'),
  R('GET', '/session/:id/message', ['read', 'execute'], 'prompts, replies and tool results'),
  R('POST', '/session/:id/message', ['write', 'execute'], 'runs the agent'),
  R('POST', '/session/:id/shell', ['write', 'execute'], 'runs a command'),
  R('POST', '/session/:id/abort', ['write', 'execute'], 'stops a run'),
];

export interface PolicyInput {
  method: string;
  /** The canonical path (see canonical-path.ts), exactly what the router matches. */
  path: string;
  /** A WebSocket upgrade: always execute, whatever its method looks like. */
  upgrade: boolean;
}

export type PolicyDecision = { kind: 'public' } | { kind: 'method_not_allowed'; allowed: string[] } | { kind: 'requires'; permissions: Permission[] };

interface CompiledRule {
  rule: RouteRule;
  segments: string[];
  rest: boolean;
}

/** Rules by method (HEAD shares GET's), compiled once. */
const COMPILED: ReadonlyMap<string, CompiledRule[]> = (() => {
  const byMethod = new Map<string, CompiledRule[]>();
  for (const rule of ROUTE_RULES) {
    const segments = rule.path.split('/').slice(1);
    const rest = segments.at(-1) === '*';
    const compiled = { rule, segments: rest ? segments.slice(0, -1) : segments, rest };
    for (const m of rule.method === 'GET' ? ['GET', 'HEAD'] : [rule.method]) {
      if (!byMethod.has(m)) byMethod.set(m, []);
      byMethod.get(m)!.push(compiled);
    }
  }
  return byMethod;
})();

function matches(c: CompiledRule, parts: string[]): boolean {
  if (c.rest ? parts.length <= c.segments.length : parts.length !== c.segments.length) return false;
  return c.segments.every((s, i) => (s.startsWith(':') ? parts[i] !== '' : s === parts[i]));
}

/** The table entry for a request, if any. Router matching is case-sensitive, so is this. */
export function routeRule(method: string, path: string): RouteRule | undefined {
  const rules = COMPILED.get(method);
  if (!rules) return undefined;
  const parts = path.split('/').slice(1);
  return rules.find((c) => matches(c, parts))?.rule;
}

export function requiredPermissions({ method, path, upgrade }: PolicyInput): PolicyDecision {
  const base = METHOD_PERMISSION.get(method);
  if (base === undefined) return { kind: 'method_not_allowed', allowed: [...METHOD_PERMISSION.keys()] };
  if (!upgrade && isPublic(method, path)) return { kind: 'public' };
  const needs = new Set<Permission>([base]);
  const first = path.split('/', 2)[1]?.toLowerCase() ?? '';
  if (upgrade) {
    needs.add('read');
    needs.add('execute');
  }
  if (EXECUTE_SEGMENTS.has(first)) needs.add('execute');
  for (const p of routeRule(method, path)?.needs ?? []) needs.add(p);
  return { kind: 'requires', permissions: PERMISSIONS.filter((p) => needs.has(p)) };
}

function isPublic(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some((r) => r.methods.includes(method) && (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
}

export function missingPermissions(required: readonly Permission[], granted: readonly Permission[]): Permission[] {
  return required.filter((p) => !granted.includes(p));
}

/** Events on `GET /event` about interactive resources are seen only by tokens that may use them. */
export const EVENT_PERMISSION: ReadonlyArray<readonly [prefix: string, needs: Permission]> = [
  ['pty.', 'execute'],
  ['session.', 'execute'],
  ['message.', 'execute'],
];

export function eventVisible(type: string, granted: readonly Permission[]): boolean {
  return EVENT_PERMISSION.every(([prefix, needs]) => !type.startsWith(prefix) || granted.includes(needs));
}
