// Which permissions a request needs: a table plus one function. Pure, imports nothing from the
// project but the permission vocabulary. The guard is its only caller; no route decides for itself.
import type { Permission } from './permissions.js';

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
 * is given; logout only ends the session its own cookie names).
 */
export const PUBLIC_ROUTES: ReadonlyArray<{ methods: readonly string[]; path: string | RegExp }> = [
  { methods: ['GET', 'HEAD'], path: '/health' },
  { methods: ['GET', 'HEAD'], path: '/' },
  { methods: ['GET', 'HEAD'], path: /^\/ui(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/ },
  { methods: ['POST', 'DELETE'], path: '/auth/session' },
];

export interface PolicyInput {
  method: string;
  /** The canonical path (see path.ts), exactly what the router matches. */
  path: string;
  /** A WebSocket upgrade: always execute, whatever its method looks like. */
  upgrade: boolean;
}

export type PolicyDecision =
  | { kind: 'public' }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'requires'; permissions: Permission[] };

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
  return { kind: 'requires', permissions: (['read', 'write', 'execute'] as const).filter((p) => needs.has(p)) };
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
