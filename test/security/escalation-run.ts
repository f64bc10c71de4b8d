// Runs the escalation matrix's requests for one caller, one request at a time, with the server's
// process tree and the marker directory checked around each, and judges what came back.
import fs from 'node:fs';
import { missingPermissions, requiredPermissions } from '../../src/auth/policy.js';
import { httpAttempt, wsAttempt, type Outcome } from './escalation-http.js';
import { canariesIn, type CanaryName, type Probe } from './escalation-plan.js';
import { describeProc, type ProcInfo } from './escalation-procs.js';
import { httpHeaders, wsCredentials, type Caller, type World } from './escalation-setup.js';

export interface Attempted {
  probe: Probe;
  outcome: Outcome;
  /** The same request with a made-up id (weak callers, routes with `:id`). */
  fake?: Outcome;
  leaked: CanaryName[];
  /** Processes that appeared while it ran. */
  spawned: ProcInfo[];
  /** Marker files that appeared while it ran. */
  markers: string[];
  /** The settings file changed while it ran. */
  settingsChanged: boolean;
}

export const describeProbe = (p: Probe) => `${p.upgrade ? 'WebSocket upgrade' : p.method} ${p.path}`;

async function send(w: World, c: Caller, p: Probe, path: string): Promise<Outcome> {
  if (p.upgrade) {
    const { headers, protocols } = wsCredentials(c, w.s.url);
    return wsAttempt(w.s.url, path, headers, protocols);
  }
  return httpAttempt(w.s.url, p.method, path, httpHeaders(c, w.s.url), p.body === undefined ? undefined : JSON.stringify(p.body));
}

/**
 * Sends probes one at a time, noting any process started and any marker left by each. Each
 * snapshot after a probe is the one before the next (nothing else runs in between).
 */
export function prober(w: World, started: ProcInfo[]): (c: Caller, p: Probe, withFake: boolean) => Promise<Attempted> {
  let procs = w.watch.snapshot();
  const markers = () => new Set(fs.readdirSync(w.fixture.markerDir));
  const settings = () => fs.readFileSync(w.settingsFile, 'utf8');
  let seenMarkers = markers();
  let lastSettings = settings();
  return async (c, p, withFake) => {
    const outcome = await send(w, c, p, p.path);
    const fake = withFake && p.fakePath ? await send(w, c, p, p.fakePath) : undefined;
    const nowProcs = w.watch.snapshot();
    const spawned = w.watch.diff(procs, nowProcs);
    started.push(...spawned);
    const nowMarkers = markers();
    const nowSettings = settings();
    const a: Attempted = {
      probe: p,
      outcome,
      ...(fake ? { fake } : {}),
      leaked: canariesIn(outcome.text + (fake?.text ?? ''), w.canaries),
      spawned,
      markers: [...nowMarkers].filter((m) => !seenMarkers.has(m)),
      settingsChanged: nowSettings !== lastSettings,
    };
    [procs, seenMarkers, lastSettings] = [nowProcs, nowMarkers, nowSettings];
    return a;
  };
}

/** What the policy says a caller gets: a refusal status, or whatever the route's handler answers. */
export function expectedStatus(p: Probe, c: Caller): number | 'handler' {
  const d = requiredPermissions({ method: p.method, path: p.path.split('?')[0], upgrade: p.upgrade });
  if (d.kind === 'method_not_allowed') return 405;
  if (d.kind === 'public') return 'handler';
  if (c.cred === 'none') return 401;
  return missingPermissions(d.permissions, c.permissions).length > 0 ? 403 : 'handler';
}

/** Everything wrong with what a caller lacking execute got for one probe (empty: nothing). */
export function weakFailures(w: World, c: Caller, a: Attempted): string[] {
  const where = `${c.label}: ${describeProbe(a.probe)}`;
  const o = a.outcome;
  const out: string[] = [];
  if (a.leaked.length > 0) out.push(`${where} -> ${o.status} returned execute-only data: ${a.leaked.join(', ')}`);
  if (a.spawned.length > 0) out.push(`${where} -> ${o.status} started processes: ${a.spawned.map(describeProc).join('; ')}`);
  if (a.markers.length > 0) out.push(`${where} -> ${o.status} ran a command: marker files ${a.markers.join(', ')}`);
  if (a.settingsChanged) out.push(`${where} -> ${o.status} changed the settings file`);
  if (o.upgraded) out.push(`${where} was upgraded to a WebSocket`);
  if (o.error !== undefined || o.timedOut) out.push(`${where} failed: ${o.error ?? 'no complete response in time'}`);
  const want = expectedStatus(a.probe, c);
  if (want === 'handler') {
    if ([401, 403, 405].includes(o.status) || o.status >= 500) out.push(`${where} -> ${o.status}, want the handler's answer: ${o.body.slice(0, 200)}`);
  } else if (o.status !== want) {
    out.push(`${where} -> ${o.status}, want ${want}: ${o.body.slice(0, 200)}`);
  }
  // (HEAD has no body, and the WebSocket layer sends refused upgrades without one.)
  const hasBody = a.probe.method !== 'HEAD' && !a.probe.upgrade;
  if (want === 403 && o.status === 403 && hasBody && !/insufficient_permissions/.test(o.body))
    out.push(`${where}: 403 without insufficient_permissions: ${o.body}`);
  if (want === 401 && o.status === 401 && !/www-authenticate: Bearer realm="tether"/i.test(o.text)) out.push(`${where}: 401 without WWW-Authenticate`);
  // A refusal says nothing about whether the resource exists.
  if (a.fake && (want === 401 || want === 403)) {
    const norm = (s: string, id: string) => s.split(id).join('<id>');
    // The id is the one segment where the two paths differ (/pty/:id, /auth/pair/code/:id).
    const real = a.probe.path.split('?')[0].split('/');
    const fake = a.probe.fakePath!.split('?')[0].split('/');
    const at = real.findIndex((seg, i) => seg !== fake[i]);
    const realId = real[at];
    const fakeId = fake[at];
    if (a.fake.status !== o.status || norm(a.fake.body, fakeId) !== norm(o.body, realId)) {
      out.push(`${where}: the refusal differs for a made-up id (${a.fake.status} ${a.fake.body.slice(0, 120)} vs ${o.status} ${o.body.slice(0, 120)})`);
    }
  }
  return out;
}
