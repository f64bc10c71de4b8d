// What the escalation matrix sends: for each registered route (router syntax, as
// `RunningServer.routes` lists it) the concrete requests, with real ids and the bodies an attacker
// would send (valid ones, that would succeed for a token holding everything); the settings an
// attacker would choose; and the canary strings with the forms they may take in a response.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { settingsShape } from '../../src/config/settings.js';

/** Every canary starts with this: `GET /find?pattern=` searches the project for all of them. */
export const CANARY_PREFIX = 'xcnry';

export type CanaryName =
  'ptyInput' | 'ptyOutput' | 'ptyTitle' | 'sessionTitle' | 'shellCommand' | 'shellOutput' | 'prompt' | 'toolInput' | 'toolOutput' | 'reply' | 'apiKey';

const reverse = (s: string) => [...s].reverse().join('');

/**
 * Execute-only data of this run. `*Output` canaries are the reversed input (the command pipes
 * through `rev`), so output and the command that printed it are told apart.
 */
export function makeCanaries(): Record<CanaryName, string> {
  const c = (name: string) => `${CANARY_PREFIX}${name}${randomBytes(8).toString('hex')}`;
  const ptyInput = c('ptyin');
  const shellCommand = c('shellcmd');
  const toolInput = c('toolin');
  return {
    ptyInput,
    ptyOutput: reverse(ptyInput),
    ptyTitle: c('ptytitle'),
    sessionTitle: c('sestitle'),
    shellCommand,
    shellOutput: reverse(shellCommand),
    prompt: c('prompt'),
    toolInput,
    toolOutput: reverse(toolInput),
    reply: c('reply'),
    apiKey: `sk-${c('apikey')}`,
  };
}

/** The canary as it would appear raw, or inside base64 at any byte alignment (binary file content). */
function forms(canary: string): string[] {
  const out = [canary];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.concat([Buffer.alloc(pad), Buffer.from(canary)]).toString('base64');
    // Drop the characters that depend on the bytes around the canary.
    const start = Math.ceil((pad * 4) / 3) + 1;
    const end = Math.floor(((pad + canary.length) * 4) / 3) - 1;
    out.push(b64.slice(start, end));
  }
  return out;
}

/** Names of the canaries that `text` contains, in any form. */
export function canariesIn(text: string, canaries: Record<CanaryName, string>): CanaryName[] {
  return (Object.entries(canaries) as [CanaryName, string][]).filter(([, v]) => forms(v).some((f) => text.includes(f))).map(([k]) => k);
}

export interface Fixture {
  ptyId: string;
  sessionId: string;
  /** Directory the attacker's commands would leave marker files in. */
  markerDir: string;
  /** An executable that leaves a marker when run as a shell. */
  evilShell: string;
  /** A model server that records whatever reaches it. */
  attackerModelUrl: string;
  /** A pending pairing code's id, made by the admin (GET/DELETE /auth/pair/code/:id). */
  pairingId: string;
  /** Pairing codes by the token whose probes may redeem them (POST /auth/pair): the admin's self-test
   * alone gets a valid one; everyone else sends a made-up code. */
  pairCodes: Record<string, string>;
}

export const marker = (f: Fixture, kind: string) => path.join(f.markerDir, `${kind}.canary`);

/** Ids that exist nowhere: a refusal must look the same for them as for real ones. */
const FAKE_IDS: Record<string, string> = { pty: 'pty_00000000000000000000', session: 'ses_0000000000000000000000', auth: 'pair_0000000000000000' };

/** A request path for a router path; `:id` takes the real (or a made-up) id of its resource. */
export function concretePath(route: string, f: Fixture, fake = false): string {
  const resource = route.split('/')[1] ?? '';
  const real: Record<string, string> = { pty: f.ptyId, session: f.sessionId, auth: f.pairingId };
  return route
    .replace(/:([A-Za-z]+)/g, (_, name: string) => {
      const id = fake ? FAKE_IDS[resource] : real[resource];
      if (name !== 'id' || id === undefined) {
        throw new Error(`the escalation matrix cannot fill :${name} in ${route}: add the resource to concretePath in test/security/escalation-plan.ts`);
      }
      return id;
    })
    .replace(/\/\*$/, '/app.js');
}

/** Queries that make read routes return something (the project search looks for every canary). */
const QUERIES: Record<string, string> = {
  '/file': '?path=.',
  '/file/content': '?path=notes.txt',
  '/find/file': `?query=${CANARY_PREFIX}`,
  '/find': `?pattern=${CANARY_PREFIX}`,
};

export const queryFor = (route: string) => QUERIES[route] ?? '';

/** Queries of write routes that name their target there: the file the matrix writes, then deletes. */
const WRITE_QUERIES: Record<string, string> = {
  'PUT /file/content': '?path=matrix-written.txt',
  'DELETE /file': '?path=matrix-written.txt',
};

export const writeQueryFor = (method: string, route: string) => WRITE_QUERIES[`${method} ${route}`] ?? '';

/** Settings an attacker would choose, every key, each also cleared. */
export function settingsAttacks(f: Fixture): [key: string, body: Record<string, unknown>][] {
  const all = { shell: f.evilShell, modelUrl: f.attackerModelUrl, model: 'attacker-model', apiKey: 'sk-attacker-chosen-key', agentMaxSteps: 200 };
  const attacks: [string, Record<string, unknown>][] = [];
  for (const [k, v] of Object.entries(all)) attacks.push([k, { [k]: v }], [k, { [k]: null }]);
  attacks.push(['shell', { shell: '/bin/sh' }], ['agentMaxSteps', { agentMaxSteps: 1 }], ['all', all]);
  return attacks;
}

/** Every settings key the server knows: the attacks must cover each. */
export const SETTINGS_KEYS = Object.keys(settingsShape);

/**
 * The body for a write to a route, as an attacker would send it. `undefined`: the route takes none.
 * A route missing here gets `{}`.
 */
export function bodyFor(method: string, route: string, f: Fixture, callerToken: string | undefined): unknown {
  switch (`${method} ${route}`) {
    case 'POST /pty':
      return { command: '/bin/sh', args: ['-c', `touch ${marker(f, 'pty')}; exec sleep 60`], title: 'attacker' };
    case 'PUT /pty/:id':
      return { cols: 90, rows: 20, title: 'attacker' };
    case 'POST /session':
    case 'PATCH /session/:id':
      return { title: 'attacker' };
    case 'POST /session/:id/message':
      return { text: `run the command: touch ${marker(f, 'agent')}` };
    case 'POST /session/:id/shell':
      // Also leaves a daemon in a session of its own, which only the environment marker finds (the
      // command waits until it has left its process group, which the runner kills at the end).
      return {
        command:
          `touch ${marker(f, 'shell')}; setsid sh -c 'touch ${marker(f, 'daemon')}; exec sleep 60' </dev/null >/dev/null 2>&1 & ` +
          `until [ -e ${marker(f, 'daemon')} ]; do sleep 0.01; done`,
      };
    case 'PUT /file/content':
      // A project file: write may create it (it runs nothing); DELETE /file removes it again.
      return { content: 'written by the escalation matrix\n' };
    case 'PATCH /config':
      return settingsAttacks(f).find(([k]) => k === 'all')![1];
    case 'POST /auth/session':
      return callerToken === undefined ? {} : { token: callerToken };
    case 'POST /auth/pair':
      return { code: f.pairCodes[callerToken ?? ''] ?? 'madeUpPairingCode00000' };
    case 'POST /pty/:id/ticket':
    case 'POST /session/:id/abort':
    case 'DELETE /pty/:id':
    case 'DELETE /session/:id':
    case 'DELETE /auth/session':
    case 'DELETE /auth/pair/code/:id':
      return undefined;
    default:
      return method === 'DELETE' ? undefined : {};
  }
}

const METHOD_ORDER = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'];

export interface Probe {
  method: string;
  route: string;
  /** Path and query as sent. */
  path: string;
  upgrade: boolean;
  /** Same request with a made-up id, to compare refusals (routes with `:id` only). */
  fakePath?: string;
  body?: unknown;
}

/**
 * Every request of the matrix, reads first and deletes last (so a caller that may delete does so
 * after everything else). GET routes are also tried as HEAD and as a WebSocket upgrade; every path
 * also as OPTIONS.
 */
export function probes(routes: { method: string; path: string }[], f: Fixture, callerToken: string | undefined): Probe[] {
  const out: Probe[] = [];
  const paths = [...new Set(routes.map((r) => r.path))];
  const add = (method: string, route: string, upgrade: boolean) => {
    const q = method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? queryFor(route) : writeQueryFor(method, route);
    const p: Probe = { method, route, path: concretePath(route, f) + q, upgrade };
    if (route.includes('/:')) p.fakePath = concretePath(route, f, true) + q;
    const body = upgrade || ['GET', 'HEAD', 'OPTIONS'].includes(method) ? undefined : bodyFor(method, route, f, callerToken);
    if (body !== undefined) p.body = body;
    out.push(p);
  };
  const unique = [...new Map(routes.map((r) => [`${r.method} ${r.path}`, r])).values()];
  for (const r of unique) {
    add(r.method, r.path, false);
    if (r.method === 'GET') {
      add('HEAD', r.path, false);
      add('GET', r.path, true);
    }
  }
  for (const p of paths) add('OPTIONS', p, false);
  // Settings first among the writes, as an attacker would: what runs after them runs under them.
  // Logging out ends a cookie caller's login: last, so it cannot turn later refusals into 401s.
  const rank = (p: Probe) =>
    p.method === 'PATCH' && p.route === '/config'
      ? METHOD_ORDER.indexOf('POST') - 0.1
      : p.method === 'DELETE' && p.route === '/auth/session'
        ? 99
        : METHOD_ORDER.indexOf(p.method) + (p.upgrade ? 0.5 : 0);
  return out
    .map((p, i) => [p, i] as const)
    .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j)
    .map(([p]) => p);
}
