// Directory scopes: where a scoped token may go. Pure: string functions on real paths, and one
// table. The guard decides *permission* (policy.ts); this file decides *place*, and is the only
// place that does: the guard asks it which routes a scoped token may use at all, and the file
// confinement, the terminal and session domains and the agent's tools ask it (through the Place
// that `placeFor` makes) whether a real path lies inside a scope.
//
// A scope is the absolute real path of a directory, stored when the token was made. A path is in
// scope when its *real* path (symlinks resolved by the caller, see src/fs/confine.ts) is the scope
// or lies below it, compared component by component: /p/app does not contain /p/app2. Comparison is
// exact, never case- or Unicode-folded: folding would widen an allow-list (src/fs/reserved.ts folds
// because it *denies*); another spelling of a scope is refused, not matched. A scope later replaced
// by a symlink contains nothing, because real paths never run through a symlink.
import path from 'node:path';
import type { Place } from '../fs/place.js';
import { normal, under, within } from './scope-path.js';
import { routeRule } from './policy.js';

export type Scopes = readonly string[] | null;

/** The real path lies in one of the scopes (null: an unscoped token, everywhere). */
export function inScope(scopes: Scopes, real: string): boolean {
  return scopes === null || (normal(real) && scopes.some((s) => normal(s) && under(s, real)));
}

/** The real path is a scope or one of its ancestors: a directory on the way to a scope. */
export function leadsToScope(scopes: Scopes, real: string): boolean {
  return scopes === null || (normal(real) && scopes.some((s) => normal(s) && under(real, s)));
}

/** The project and the scopes meet: a scope lies inside the project, or the project inside a scope. */
export function scopesMeetProject(scopes: Scopes, projectDir: string): boolean {
  return scopes === null || scopes.some((s) => within(s, projectDir) || within(projectDir, s));
}

/**
 * Where a terminal or session of a scoped token starts when the caller names no directory: the
 * project, if it lies inside a scope; else each scope that lies inside the project, in order (the
 * caller takes the first that still exists as that very directory).
 */
export function defaultDirectories(scopes: readonly string[], projectDir: string): string[] {
  if (scopes.some((s) => within(s, projectDir))) return [projectDir];
  return scopes.filter((s) => within(projectDir, s));
}

/** The Place a request's token may reach, or undefined for an unscoped token. */
export function placeFor(scopes: Scopes | undefined): Place | undefined {
  if (scopes === null || scopes === undefined) return undefined;
  const list = [...scopes];
  // Checked on every entry of a walk: the scopes' form is judged once here, the path's once per call.
  const usable = list.filter(normal).map((s) => ({ s, prefix: s.endsWith(path.sep) ? s : s + path.sep }));
  return {
    scopes: list,
    contains: (real) => normal(real) && usable.some(({ s, prefix }) => real === s || real.startsWith(prefix)),
    leadsTo: (real) => normal(real) && usable.some(({ s }) => under(real, s)),
  };
}

// --- which routes a scoped token may use, and how each is confined ---

/**
 * - `identity`: reaches no place (the caller's own token); allowed even when the project meets no scope.
 * - `project`: server metadata that names no place (the OpenAPI document, settings without the key).
 * - `paths`: the file routes and searches; every path goes through the file confinement with the
 *   token's Place (src/server/place.ts `fileRoot`).
 * - `resources`: terminals and sessions; the domain finds them by id only inside the Place (404
 *   otherwise), lists only those, and starts new ones only in a directory inside it.
 * - `events`: the event stream, filtered by `eventInScope`.
 * - `forwards`: /mcp, whose every tool and resource calls the API again in-process with the same
 *   credential (src/mcp/api.ts), where the guard and the routes above confine it.
 * A route not named here, and not under /file or /find, is refused to a scoped token (403
 * outside_scope), so a route added later reaches nothing until it is given a rule here.
 */
export type ScopeReach = 'identity' | 'project' | 'paths' | 'resources' | 'events' | 'forwards';

const RES = 'resources';
export const SCOPE_ROUTES: ReadonlyMap<string, ScopeReach> = new Map<string, ScopeReach>([
  ['GET /auth/whoami', 'identity'],
  // Pairing: the code's grant is judged by pairingGrantDecision (policy.ts), which keeps a scoped
  // creator's devices inside its own scopes.
  ['POST /auth/pair/code', 'identity'],
  ['GET /auth/pair/code/:id', 'identity'],
  ['DELETE /auth/pair/code/:id', 'identity'],
  ['GET /doc', 'project'],
  ['GET /config', 'project'],
  ['GET /event', 'events'],
  ['GET /pty', RES],
  ['POST /pty', RES],
  ['GET /pty/:id', RES],
  ['PUT /pty/:id', RES],
  ['DELETE /pty/:id', RES],
  ['POST /pty/:id/ticket', RES],
  ['GET /pty/:id/connect', RES],
  ['GET /session', RES],
  ['POST /session', RES],
  ['GET /session/:id', RES],
  ['PATCH /session/:id', RES],
  ['DELETE /session/:id', RES],
  ['GET /session/:id/message', RES],
  ['POST /session/:id/message', RES],
  ['POST /session/:id/shell', RES],
  ['POST /session/:id/abort', RES],
  ['POST /mcp', 'forwards'],
  ['GET /mcp', 'forwards'],
  ['DELETE /mcp', 'forwards'],
]);

/** First path segments whose every route is confined by the file confinement (GET, PUT, DELETE alike). */
const PATH_SEGMENTS: ReadonlySet<string> = new Set(['file', 'find']);

/** Why a route is refused to every scoped token, where a reason is worth more than "not available". */
const REFUSED_BECAUSE: ReadonlyMap<string, string> = new Map([
  ['PATCH /config', 'settings are server-wide (they decide what every terminal and agent runs, and where prompts go)'],
  ['GET /audit', 'the audit trail records the whole server, not one directory'],
  ['POST /pty/:id/share', "a share link's viewer is not a scoped token; share with an unscoped token"],
  ['POST /session/:id/share', "a share link's viewer is not a scoped token; share with an unscoped token"],
]);

/** How a route (router syntax, as in ROUTE_RULES) is confined for a scoped token; undefined: refused. */
export function scopeReach(method: string, route: string): ScopeReach | undefined {
  const m = method === 'HEAD' ? 'GET' : method;
  const named = SCOPE_ROUTES.get(`${m} ${route}`);
  if (named) return named;
  return PATH_SEGMENTS.has(route.split('/')[1] ?? '') ? 'paths' : undefined;
}

export interface ScopeRefusal {
  code: 'outside_scope';
  message: string;
}

/**
 * The guard's question for a scoped token: may this request go on to its route at all? Null: yes
 * (the route then confines what it touches). The project meeting no scope leaves only `identity`.
 */
export function scopeRefusal(input: { method: string; path: string; scopes: readonly string[]; projectDir: string; tokenName: string }): ScopeRefusal | null {
  const route = routeRule(input.method, input.path)?.path;
  const reach = route === undefined ? undefined : scopeReach(input.method, route);
  if (reach === 'identity') return null;
  const scopes = input.scopes.join(', ');
  if (!scopesMeetProject(input.scopes, input.projectDir)) {
    return {
      code: 'outside_scope',
      message: `token "${input.tokenName}" is scoped to ${scopes}, and this server's project lies outside all of them: it may only call GET /auth/whoami here`,
    };
  }
  if (reach !== undefined) return null;
  const what = `${input.method} ${route ?? input.path}`;
  const because = route === undefined ? undefined : REFUSED_BECAUSE.get(`${input.method} ${route}`);
  return {
    code: 'outside_scope',
    message: `token "${input.tokenName}" is scoped to ${scopes}; ${what} is not available to a scoped token${because ? `: ${because}` : ''}`,
  };
}

// --- events ---

/** Events that concern no place, which a scoped token sees; everything else needs a place inside a scope. */
export const PLACELESS_EVENTS: ReadonlySet<string> = new Set(['config.updated']);

/**
 * Whether a scoped token sees an event of the bus. An event about a terminal, session or message
 * carries its directory as `place` (never sent); one without a place is seen only if it is known
 * to concern no place, so an event type added later is hidden from scoped tokens until it says where.
 */
export function eventInScope(scopes: Scopes, event: { type: string; place?: string }): boolean {
  if (scopes === null) return true;
  if (event.place !== undefined) return inScope(scopes, event.place);
  return PLACELESS_EVENTS.has(event.type);
}
