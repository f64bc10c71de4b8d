// Which permissions a request needs: tables plus one function. Pure, imports nothing from the
// project but the permission vocabulary and the path comparison (scope-path.ts). Its callers are
// the guard, and for decisions about a request's body (an MCP tools/call, what a pairing code
// grants, where its scopes may lie, how long a share link may live) the MCP dispatcher, the pairing
// route, pairing-service and share.ts; no route decides for itself.
//
// A request needs the union of three rules, so a table entry can only ever add to what the method
// and path already demand, never weaken it:
// 1. its method (GET/HEAD/OPTIONS read, POST/PUT/PATCH/DELETE write, anything else 405);
// 2. its first path segment (`pty`, `session`, `message` also need execute), and any WebSocket
//    upgrade needs read + execute;
// 3. the route table: every registered route has an entry (a test enforces it), which names what the
//    route lets its holder *reach* beyond its method (DESIGN 3a). Changing a setting needs execute,
//    because settings decide what runs and where prompts go.
// One exception to "only adds": POST and DELETE /mcp waive the method rule, because every MCP call is
// a POST; there the tool table (TOOL_RULES) decides each call, and a read token may call read tools.
import { PERMISSIONS, type Permission } from './permissions.js';
import { within } from './scope-path.js';

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
 * page must load without a token), the web login/logout exchange (login verifies the token it
 * is given; logout only ends the web login its own cookie names), and pairing: the page a pairing
 * link opens, and the exchange of a one-time pairing code (the code is the credential; rate limited).
 */
export const PUBLIC_ROUTES: ReadonlyArray<{ methods: readonly string[]; path: string | RegExp }> = [
  { methods: ['GET', 'HEAD'], path: '/health' },
  { methods: ['GET', 'HEAD'], path: '/' },
  { methods: ['GET', 'HEAD'], path: /^\/ui(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/ },
  { methods: ['POST', 'DELETE'], path: '/auth/session' },
  { methods: ['GET', 'HEAD'], path: '/.well-known/oauth-protected-resource/mcp' },
  // The OAuth authorization server (src/auth/oauth/): a client has no token before it ends. Each
  // of these proves what it accepts itself (a registration, a PKCE-bound code, a refresh token);
  // the user's approval happens on the authenticated consent routes below.
  { methods: ['GET', 'HEAD'], path: '/.well-known/oauth-authorization-server' },
  { methods: ['POST'], path: '/oauth/register' },
  { methods: ['GET', 'HEAD'], path: '/oauth/authorize' },
  { methods: ['POST'], path: '/oauth/token' },
  // The share page: static, like the login page; the token stays in the fragment, read by the page.
  { methods: ['GET', 'HEAD'], path: '/share' },
  { methods: ['GET', 'HEAD'], path: '/pair' },
  { methods: ['POST'], path: '/auth/pair' },
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
  /** Only /mcp: the method rule does not apply, because every MCP call is a POST and what it reaches
   * is decided per message by TOOL_RULES (the MCP dispatcher asks `toolDecision`). */
  methodRuleWaived?: true;
}

const R = (method: string, path: string, needs: readonly Permission[], why: string, waived?: 'body-decides'): RouteRule => ({
  method,
  path,
  needs,
  why,
  ...(waived && { methodRuleWaived: true as const }),
});

/**
 * Every route the server registers. `needs` lists the permissions the route requires in full (the
 * method and segment rules would add them anyway where they apply; listing them keeps the table
 * readable on its own).
 */
export const ROUTE_RULES: readonly RouteRule[] = [
  R('GET', '/health', [], 'public: liveness only'),
  R('GET', '/', [], 'public: the web UI page'),
  R('GET', '/ui/*', [], 'public: the web UI static files'),
  R('GET', '/share', [], 'public: the share page (static; the token is in the fragment, never sent with it)'),
  R('POST', '/auth/session', [], 'public: web login verifies the token it is given'),
  R('DELETE', '/auth/session', [], 'public: ends only the web login its own cookie and key name'),
  R('GET', '/.well-known/oauth-protected-resource/mcp', [], 'public: RFC 9728 metadata of /mcp (names the server, holds no data)'),
  R('GET', '/.well-known/oauth-authorization-server', [], 'public: RFC 8414 metadata (names the endpoints, holds no data)'),
  R('POST', '/oauth/register', [], 'public: RFC 7591 client registration (bounded, rate limited; grants nothing)'),
  R('GET', '/oauth/authorize', [], 'public: validates a request and sends the browser to the consent page'),
  R('POST', '/oauth/token', [], 'public: redeems a PKCE-bound code or a refresh token'),
  // Approving grants what the approver holds (approvalRefusal below, asked by the route); read too,
  // because the answer names the pending client.
  R('GET', '/oauth/request/:id', ['read'], 'a pending OAuth authorization request, for the consent page'),
  R('POST', '/oauth/request/:id', ['read', 'write'], "approves or denies it: a grant of at most the approver's own permissions and scopes"),
  R('GET', '/auth/whoami', ['read'], "the caller's own token metadata"),
  R('GET', '/pair', [], 'public: the page a pairing link opens (static, holds no data)'),
  R('POST', '/auth/pair', [], 'public: exchanges a one-time pairing code (the credential) for a device login; rate limited'),
  R('POST', '/auth/pair/code', ['read', 'write'], 'mints a pairing code; what it grants is judged by pairingGrantDecision; its creator watches it'),
  R('GET', '/auth/pair/code/:id', ['read'], "the state of the caller's own pairing code"),
  R('DELETE', '/auth/pair/code/:id', ['write'], "cancels the caller's own pairing code"),
  R('GET', '/doc', ['read'], 'the OpenAPI document'),
  R('GET', '/config', ['read'], 'settings, never the API key'),
  R('PATCH', '/config', ['write', 'execute'], 'settings decide what runs (shell) and where prompts go (model URL)'),
  R('GET', '/file', ['read'], 'project listing'),
  R('GET', '/file/content', ['read'], 'project file content'),
  // Not execute: a file is not run by being written (someone may run it later: the capability map
  // says so). Read too: the answers tell what is there (an entity tag is a hash of the content,
  // 412/404 say whether a file exists), which is read-level.
  R('PUT', '/file/content', ['read', 'write'], 'creates or replaces a project file'),
  R('DELETE', '/file', ['read', 'write'], 'deletes a project file'),
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
  R('POST', '/pty/:id/share', ['read', 'write', 'execute'], 'a share link: lets anyone holding it watch the terminal'),
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
  R('POST', '/session/:id/share', ['read', 'write', 'execute'], 'a share link: lets anyone holding it watch the session'),
  R('POST', '/mcp', ['read'], 'MCP messages; each tools/call is decided by TOOL_RULES', 'body-decides'),
  R('GET', '/mcp', ['read'], "the MCP session's notification stream"),
  R('DELETE', '/mcp', ['read'], "ends the caller's own MCP session", 'body-decides'),
];

export interface ToolRule {
  /** The MCP tool name. */
  name: string;
  /** Everything the tool needs: at least what every route it calls needs (a test holds it to that). */
  needs: readonly Permission[];
  /** The API routes the tool calls (in-process, with the caller's own credential). */
  routes: ReadonlyArray<readonly [method: string, path: string]>;
}

const T = (name: string, needs: readonly Permission[], routes: ToolRule['routes']): ToolRule => ({ name, needs, routes });

/**
 * Every MCP tool, beside the route table: the MCP dispatcher refuses a call whose tool needs more than
 * the token holds (HTTP 403 insufficient_scope) and lists only the tools a token may call.
 */
export const TOOL_RULES: readonly ToolRule[] = [
  T('list_files', ['read'], [['GET', '/file']]),
  T('read_file', ['read'], [['GET', '/file/content']]),
  T('find_files', ['read'], [['GET', '/find/file']]),
  T('search', ['read'], [['GET', '/find']]),
  T('write_file', ['read', 'write'], [['PUT', '/file/content']]),
  T('delete_file', ['read', 'write'], [['DELETE', '/file']]),
  T(
    'run_command',
    ['read', 'write', 'execute'],
    [
      ['GET', '/session'],
      ['POST', '/session'],
      ['POST', '/session/:id/shell'],
    ],
  ),
  T(
    'ask_agent',
    ['read', 'write', 'execute'],
    [
      ['GET', '/session'],
      ['POST', '/session'],
      ['POST', '/session/:id/message'],
    ],
  ),
];

const TOOLS: ReadonlyMap<string, ToolRule> = new Map(TOOL_RULES.map((t) => [t.name, t]));

export type ToolDecision = { kind: 'unknown' } | { kind: 'allowed' } | { kind: 'denied'; needs: readonly Permission[]; missing: Permission[] };

/** Whether a token holding `granted` may call the MCP tool `name`. */
export function toolDecision(name: string, granted: readonly Permission[]): ToolDecision {
  const rule = TOOLS.get(name);
  if (!rule) return { kind: 'unknown' };
  const missing = missingPermissions(rule.needs, granted);
  return missing.length === 0 ? { kind: 'allowed' } : { kind: 'denied', needs: rule.needs, missing };
}

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

/**
 * What a request needs. Pure, so its answers are remembered for short paths (bounded: the cache is
 * emptied when full, so distinct paths from a client only cost the uncached time, never memory).
 * The answers are frozen: no caller can change what the next request is told.
 */
export function requiredPermissions(input: PolicyInput): PolicyDecision {
  if (input.path.length > MAX_CACHED_PATH) return decide(input);
  // The flag is one fixed character and a method never contains a space: keys cannot collide.
  const key = `${input.upgrade ? '1' : '0'}${input.method} ${input.path}`;
  let decision = DECISIONS.get(key);
  if (decision === undefined) {
    decision = freezeDecision(decide(input));
    if (DECISIONS.size >= MAX_CACHED_DECISIONS) DECISIONS.clear();
    DECISIONS.set(key, decision);
  }
  return decision;
}

const MAX_CACHED_PATH = 256;
const MAX_CACHED_DECISIONS = 1024;
const DECISIONS = new Map<string, PolicyDecision>();

/** How many decisions are remembered now (tests). */
export function cachedDecisionCount(): number {
  return DECISIONS.size;
}

function freezeDecision(d: PolicyDecision): PolicyDecision {
  if (d.kind === 'method_not_allowed') Object.freeze(d.allowed);
  if (d.kind === 'requires') Object.freeze(d.permissions);
  return Object.freeze(d);
}

/** The decision itself, uncached (exported for the test that holds the cache to it). */
export function decide({ method, path, upgrade }: PolicyInput): PolicyDecision {
  const base = METHOD_PERMISSION.get(method);
  if (base === undefined) return { kind: 'method_not_allowed', allowed: [...METHOD_PERMISSION.keys()] };
  if (!upgrade && isPublic(method, path)) return { kind: 'public' };
  const rule = routeRule(method, path);
  const needs = new Set<Permission>(rule?.methodRuleWaived ? [] : [base]);
  const first = path.split('/', 2)[1]?.toLowerCase() ?? '';
  if (upgrade) {
    needs.add('read');
    needs.add('execute');
  }
  if (EXECUTE_SEGMENTS.has(first)) needs.add('execute');
  for (const p of rule?.needs ?? []) needs.add(p);
  return { kind: 'requires', permissions: PERMISSIONS.filter((p) => needs.has(p)) };
}

function isPublic(method: string, path: string): boolean {
  return PUBLIC_ROUTES.some((r) => r.methods.includes(method) && (typeof r.path === 'string' ? r.path === path : r.path.test(path)));
}

// --- OAuth (src/auth/oauth/) ---

/**
 * Audience binding (RFC 8707): an OAuth grant's access token is issued for the resource `/mcp`, so
 * it is accepted there and nowhere else, except on the API requests the MCP dispatcher makes
 * in-process on its behalf (every tool reaches the project through the API; see src/mcp/api.ts).
 * Every other token kind is accepted wherever its permissions allow.
 */
export function audienceAllows(kind: string | undefined, path: string, forwardedByMcp: boolean): boolean {
  return kind !== 'oauth' || path === '/mcp' || forwardedByMcp;
}

/** `p` is `dir` or lies below it; both absolute, already normal (no `.`, `..` or `//`). */
function pathWithin(dir: string, p: string): boolean {
  const normal = (x: string) => x.startsWith('/') && !/\/\/|\/\.\.?(\/|$)/.test(x);
  return normal(dir) && normal(p) && (p === dir || p.startsWith(dir.endsWith('/') ? dir : dir + '/'));
}

/**
 * Whether a token may approve an OAuth grant: it must hold every permission it grants, and a scoped
 * approver may grant only scopes inside its own (never the whole project). Null: it may; else why not.
 */
export function approvalRefusal(
  approver: { permissions: readonly Permission[]; scopes: readonly string[] | null },
  grant: { permissions: readonly Permission[]; scopes: readonly string[] | null },
): string | null {
  const missing = missingPermissions(grant.permissions, approver.permissions);
  if (missing.length > 0) return `your token lacks ${missing.join(' and ')} permission, so it cannot grant it`;
  if (approver.scopes === null) return null;
  if (grant.scopes === null) return `your token is scoped to ${approver.scopes.join(', ')}: choose a directory inside it`;
  const outside = grant.scopes.filter((g) => !approver.scopes!.some((a) => pathWithin(a, g)));
  return outside.length === 0 ? null : `${outside.join(', ')} is outside your token's scopes (${approver.scopes.join(', ')})`;
}

export function missingPermissions(required: readonly Permission[], granted: readonly Permission[]): Permission[] {
  // A plain loop: `filter` with a closure over the (frozen, cached) required list showed up in the
  // request profile; same result, same order.
  const missing: Permission[] = [];
  for (let i = 0; i < required.length; i++) if (!granted.includes(required[i]!)) missing.push(required[i]!);
  return missing;
}

/** Events on `GET /event` about interactive resources are seen only by tokens that may use them. */
export const EVENT_PERMISSION: ReadonlyArray<readonly [prefix: string, needs: Permission]> = [
  ['pty.', 'execute'],
  ['session.', 'execute'],
  ['message.', 'execute'],
  // Said for the record: `GET /event` needs read anyway, and read may list and read these files.
  ['file.', 'read'],
];

export function eventVisible(type: string, granted: readonly Permission[]): boolean {
  return EVENT_PERMISSION.every(([prefix, needs]) => !type.startsWith(prefix) || granted.includes(needs));
}

// --- Share tokens ---
// A share token (kind `share`: permissions exactly read, bound to one terminal or session, always
// expiring) is not judged by its permissions. It reaches what SHARE_RULES lists, for its own target
// only, and nothing else: every other request is 403 `outside_share`, and the same routes for
// another terminal or session are 404, the answer an id that exists nowhere gets, so a share token
// cannot learn which others exist. The guard asks shareDecision instead of the tables above.

/** What a share token is bound to (the token record's `target`). */
export interface ShareTarget {
  type: 'pty' | 'session';
  id: string;
}

export interface ShareRule {
  /** Router syntax; `:id` must be the token's own target id. The method is GET (HEAD shares it). */
  path: string;
  /** The target type whose id `:id` is; null: the route has no id. */
  target: ShareTarget['type'] | null;
  /** A WebSocket upgrade is accepted here (and nowhere else). */
  upgrade: boolean;
  why: string;
}

export const SHARE_RULES: readonly ShareRule[] = [
  { path: '/auth/whoami', target: null, upgrade: false, why: 'its own metadata, target and expiry, for the share page' },
  { path: '/event', target: null, upgrade: false, why: 'lifecycle events of its own target only (shareEventVisible)' },
  { path: '/pty/:id', target: 'pty', upgrade: false, why: "the terminal's size, title and status" },
  { path: '/pty/:id/connect', target: 'pty', upgrade: true, why: 'the terminal stream, always view only (viewOnlyConnection)' },
  { path: '/session/:id', target: 'session', upgrade: false, why: "the session's title, directory and status" },
  { path: '/session/:id/message', target: 'session', upgrade: false, why: "the session's messages, tool calls and shell results" },
];

export type ShareDecision = { ok: true; needs: Permission[] } | { ok: false; status: 403 | 404; code: string; message: string };

/** What the route's own 404 says for an id that does not exist, word for word. */
const NOT_FOUND: Record<ShareTarget['type'], (id: string) => { code: string; message: string }> = {
  pty: (id) => ({ code: 'not_found', message: `terminal "${id.slice(0, 100)}" not found` }),
  session: (id) => ({ code: 'session_not_found', message: `session "${id}" not found` }),
};

export function shareDecision(target: ShareTarget | undefined, { method, path, upgrade }: PolicyInput): ShareDecision {
  const what = target ? `${target.type === 'pty' ? 'terminal' : 'session'} ${target.id}` : 'nothing';
  const refuse: ShareDecision = {
    ok: false,
    status: 403,
    code: 'outside_share',
    message: `this is a share link token: it can only watch ${what} (read only); ${upgrade ? 'a WebSocket upgrade to' : method} ${path} is not part of it`,
  };
  // A share record without a target reaches nothing (never fails open).
  if (!target || (method !== 'GET' && method !== 'HEAD')) return refuse;
  const parts = path.split('/').slice(1);
  for (const rule of SHARE_RULES) {
    const segments = rule.path.split('/').slice(1);
    if (segments.length !== parts.length || !segments.every((s, i) => (s === ':id' ? parts[i] !== '' : s === parts[i]))) continue;
    if (upgrade && !rule.upgrade) return refuse;
    if (rule.target === null) return { ok: true, needs: ['read'] };
    if (rule.target !== target.type) return refuse;
    const id = parts[segments.indexOf(':id')]!;
    if (id !== target.id) return { ok: false, status: 404, ...NOT_FOUND[rule.target](id) };
    return { ok: true, needs: ['read'] };
  }
  return refuse;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Whether an event on `GET /event` reaches a share token: only those about its own target. */
export function shareEventVisible(target: ShareTarget, event: { type: string; properties: Record<string, unknown> }): boolean {
  const p = event.properties;
  if (target.type === 'pty') {
    if (!event.type.startsWith('pty.')) return false;
    return (isObject(p.info) ? p.info.id : p.id) === target.id;
  }
  if (!event.type.startsWith('session.') && !event.type.startsWith('message.')) return false;
  return (isObject(p.session) ? p.session.id : p.sessionId) === target.id;
}

/**
 * Whether a terminal connection is view only (the server ignores its input and resize frames):
 * always for a share token, and for any other token that asks with `?view=1`. Watching needs what
 * attaching needs (read + execute: terminal output is execute-level, DESIGN 3a); only a share
 * token, made by a holder of read + write + execute on that terminal, watches with read alone.
 */
export function viewOnlyConnection(share: ShareTarget | undefined, asked: boolean): boolean {
  return share !== undefined || asked;
}

/** Whether a token may be exchanged for a web login (`POST /auth/session`): a share token or an
 * OAuth grant (whose tokens are for /mcp alone) may not. */
export function mayHoldWebLogin(kind: string | undefined): boolean {
  return kind !== 'share' && kind !== 'oauth';
}

// ---------- pairing: decisions about what a request BODY asks for ----------

/** The token creating a pairing code, as the policy sees it. */
export interface PairingCreator {
  permissions: readonly Permission[];
  /** ISO 8601, or null for never. */
  expiresAt: string | null;
  /** Absolute real paths; absent = not confined. */
  scopes?: readonly string[] | undefined;
  kind?: string | undefined;
}

/** What a pairing code would grant the device token made from it. */
export interface PairingGrantRequest {
  permissions: readonly Permission[];
  expiresAt: string | null;
  scopes?: readonly string[] | undefined;
}

export type GrantDecision = { ok: true } | { ok: false; code: string; message: string };

/** Whether real path `inner` is `outer` or lies inside it: the scope comparison (scope-path.ts). */
export function scopeWithin(inner: string, outer: string): boolean {
  return within(outer, inner);
}

/**
 * A token may only hand a device what it holds itself: every permission, no longer a life, and (a
 * scoped token) only directories inside its own scopes. A share token pairs nothing. The guard has
 * already checked the route (POST /auth/pair/code needs read + write); this judges the body.
 */
export function pairingGrantDecision(creator: PairingCreator, grant: PairingGrantRequest): GrantDecision {
  if (creator.kind === 'share') return { ok: false, code: 'share_token', message: 'a share token cannot pair devices' };
  const missing = missingPermissions(grant.permissions, creator.permissions);
  if (missing.length > 0) {
    return {
      ok: false,
      code: 'grant_exceeds_token',
      message:
        `this token lacks ${missing.join(' and ')} permission, so it cannot pair a device with it; ` +
        `pair with --permissions ${creator.permissions.join(',')} (or fewer), or use a token that holds ${missing.join(' and ')}`,
    };
  }
  if (creator.expiresAt !== null && (grant.expiresAt === null || Date.parse(grant.expiresAt) > Date.parse(creator.expiresAt))) {
    return {
      ok: false,
      code: 'expiry_exceeds_token',
      message: `this token expires at ${creator.expiresAt}; a device it pairs cannot outlive it: give --expires at or before that`,
    };
  }
  if (creator.scopes !== undefined) {
    if (grant.scopes === undefined) {
      return {
        ok: false,
        code: 'scope_required',
        message: `this token is confined to ${creator.scopes.join(', ')}; a device it pairs must be confined too (--scope)`,
      };
    }
    const outside = grant.scopes.filter((s) => !creator.scopes!.some((o) => scopeWithin(s, o)));
    if (outside.length > 0) {
      return {
        ok: false,
        code: 'scope_outside',
        message: `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside this token's scopes (${creator.scopes.join(', ')}); a device it pairs may only get directories inside them`,
      };
    }
  }
  return { ok: true };
}

/**
 * Before the server resolves the directories a pairing code asks for (realpath, stat): each must lie,
 * as written, where the creator reaches: inside its scopes, else inside the project. Otherwise the
 * answers ("does not exist", "not a directory", the real path) would tell a read + write token about
 * places it cannot reach. A path with `.` or `..` components is refused the same way.
 */
export function pairingScopeRefusal(creator: PairingCreator, asked: readonly string[], projectDir: string): GrantDecision {
  const reach = creator.scopes ?? [projectDir];
  const outside = asked.filter((s) => !reach.some((r) => within(r, s)));
  if (outside.length === 0) return { ok: true };
  return {
    ok: false,
    code: 'scope_outside',
    message: `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not inside ${creator.scopes ? "this token's scopes" : 'the project'} (${reach.join(', ')}); a device may only be given directories there`,
  };
}

/** A share link never outlives the token that made it (as a paired device never does). */
export function shareExpiryDecision(creatorExpiresAt: string | null, shareExpiresAt: string): GrantDecision {
  if (creatorExpiresAt === null || Date.parse(shareExpiresAt) <= Date.parse(creatorExpiresAt)) return { ok: true };
  return {
    ok: false,
    code: 'expiry_exceeds_token',
    message: `this token expires at ${creatorExpiresAt}; a share link it makes cannot outlive it: give --expires at or before that`,
  };
}

/** A pairing code is watched and cancelled by the token that created it, and by no other. */
export function mayManagePairing(callerTokenId: string | null, creatorTokenId: string): boolean {
  return callerTokenId !== null && callerTokenId === creatorTokenId;
}
