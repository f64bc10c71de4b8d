// The escalation matrix for share tokens (README "Share links"): every registered route and method
// (plus HEAD and a WebSocket upgrade on every GET, OPTIONS on every path), presented as Bearer,
// Basic and WebSocket subprotocol, by share tokens for the fixture's terminal and session and for
// another terminal and session. The expectation is written out here, not read from the policy:
// public routes answer as for anyone (but a share token cannot log in); whoami and the event stream
// answer; the token's own terminal or session answers on its read routes (the terminal stream
// upgrades, view only); the same routes with another id are 404, exactly like an id that does not
// exist; everything else is 403 `outside_share`. Throughout: no process started, no command run, no
// setting changed, and execute-only data (the canaries) only from the token's own target's read
// routes. Share tokens' event streams carry their own target's events only.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShareToken } from '../../src/auth/share.js';
import { isAlive } from '../helpers/proc.js';
import { connect } from '../pty-routes/helpers.js';
import { openStream, type RecordedStream } from './escalation-http.js';
import { canariesIn, probes, type CanaryName, type Probe } from './escalation-plan.js';
import { readStat, type ProcInfo } from './escalation-procs.js';
import { describeProbe, prober, type Attempted } from './escalation-run.js';
import { setupWorld, type Caller, type World } from './escalation-setup.js';

let w: World;
const started: ProcInfo[] = [];

interface ShareCaller extends Caller {
  target: { type: 'pty' | 'session'; id: string };
  /** The target is the fixture's own terminal or session (which holds the canaries). */
  fixture: boolean;
}

const PTY_CANARIES: CanaryName[] = ['ptyInput', 'ptyOutput', 'ptyTitle'];
const SESSION_CANARIES: CanaryName[] = ['sessionTitle', 'shellCommand', 'shellOutput', 'prompt', 'toolInput', 'toolOutput', 'reply'];

const shares: { label: string; token: string; target: ShareCaller['target']; fixture: boolean }[] = [];
let streams: { label: string; target: ShareCaller['target']; fixture: boolean; stream: RecordedStream }[] = [];

async function admin(method: string, p: string, body?: unknown): Promise<any> {
  const r = await w.s.fetch(p, {
    method,
    token: w.admin,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${p} -> ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

beforeAll(async () => {
  w = await setupWorld();
  const otherPty = await admin('POST', '/pty', { command: 'sleep', args: ['600'], title: 'other terminal' });
  const otherSession = await admin('POST', '/session', { title: 'other session' });
  const targets: [string, ShareCaller['target'], boolean][] = [
    ['pty-own', { type: 'pty', id: w.fixture.ptyId }, true],
    ['pty-other', { type: 'pty', id: otherPty.id }, false],
    ['session-own', { type: 'session', id: w.fixture.sessionId }, true],
    ['session-other', { type: 'session', id: otherSession.id }, false],
  ];
  for (const [label, target, fixture] of targets) {
    // Through token-admin, as the share routes write them (the routes themselves are tested elsewhere).
    const { token } = await createShareToken({ target, expires: '1h', name: `share-${label}` }, w.s.env.tokenFile);
    shares.push({ label, token, target, fixture });
  }
  // Each share token holds an event stream open while the admin works on every target.
  streams = shares.map((s) => ({
    label: s.label,
    target: s.target,
    fixture: s.fixture,
    stream: openStream(w.s.url, '/event', { authorization: `Bearer ${s.token}` }),
  }));
  for (const s of streams) await s.stream.waitFor((t) => t.includes('server.connected'), `${s.label} event stream`);
  await admin('PUT', `/pty/${w.fixture.ptyId}`, { title: 'fixture renamed' });
  await admin('PUT', `/pty/${otherPty.id}`, { title: 'other renamed' });
  await admin('PATCH', `/session/${w.fixture.sessionId}`, { title: 'fixture session renamed' });
  await admin('PATCH', `/session/${otherSession.id}`, { title: 'other session renamed' });
  await admin('POST', `/session/${otherSession.id}/shell`, { command: 'echo other-shell-output' });
  await admin('PATCH', '/config', { agentMaxSteps: 7 });
  await w.adminStream.waitFor((t) => t.includes('"agentMaxSteps"') || t.split('config.updated').length > 2, 'the settings change on the admin stream');
}, 90_000);

afterAll(async () => {
  for (const s of streams) s.stream.close();
  await w?.close();
  for (const p of started) if (isAlive(p.pid) && readStat(p.pid)?.start === p.start) process.kill(p.pid, 'SIGKILL');
});

type Want = { status: number } | { status: 'handler' } | { upgrade: true };

const PUBLIC: [string[], RegExp][] = [
  [['GET', 'HEAD'], /^\/(health|share|pair)?$/],
  [['GET', 'HEAD'], /^\/\.well-known\/oauth-protected-resource\/mcp$/],
  // The pairing exchange takes a code, never a token: a share token there is just a wrong code.
  [['POST'], /^\/auth\/pair$/],
  [['GET', 'HEAD'], /^\/ui\/.+/],
  [['DELETE'], /^\/auth\/session$/],
];

/** What a share token must get for one probe (written out, not read from the policy). */
function want(c: ShareCaller, p: Probe): Want {
  const route = p.route;
  const path = p.path.split('?')[0];
  if (!p.upgrade && PUBLIC.some(([methods, re]) => methods.includes(p.method) && re.test(path))) return { status: 'handler' };
  // Public, but the handler refuses to turn a share token into a web login.
  if (p.method === 'POST' && route === '/auth/session') return { status: 403 };
  const read = p.method === 'GET' || p.method === 'HEAD';
  if (read && !p.upgrade && (route === '/auth/whoami' || route === '/event')) return { status: 'handler' };
  const ownReads = c.target.type === 'pty' ? ['/pty/:id', '/pty/:id/connect'] : ['/session/:id', '/session/:id/message'];
  if (read && ownReads.includes(route)) {
    const isUpgrade = p.upgrade;
    if (isUpgrade && route !== '/pty/:id/connect') return { status: 403 };
    const id = path.split('/')[2];
    if (id !== c.target.id) return { status: 404 };
    return isUpgrade ? { upgrade: true } : { status: 'handler' };
  }
  return { status: 403 };
}

function failures(c: ShareCaller, a: Attempted): string[] {
  const where = `${c.label}: ${describeProbe(a.probe)}`;
  const o = a.outcome;
  const out: string[] = [];
  const w2 = want(c, a.probe);
  if (a.spawned.length > 0) out.push(`${where} -> ${o.status} started processes`);
  if (a.markers.length > 0) out.push(`${where} -> ${o.status} ran a command: ${a.markers.join(', ')}`);
  if (a.settingsChanged) out.push(`${where} -> ${o.status} changed the settings file`);
  if (o.error !== undefined || o.timedOut) out.push(`${where} failed: ${o.error ?? 'no complete response in time'}`);
  if ('upgrade' in w2) {
    if (!o.upgraded) out.push(`${where} -> ${o.status}, want an upgrade: ${o.body.slice(0, 200)}`);
  } else {
    if (o.upgraded) out.push(`${where} was upgraded to a WebSocket`);
    if (w2.status === 'handler') {
      if ([401, 403, 404, 405].includes(o.status) || o.status >= 500) out.push(`${where} -> ${o.status}, want the handler's answer: ${o.body.slice(0, 200)}`);
    } else if (o.status !== w2.status) out.push(`${where} -> ${o.status}, want ${w2.status}: ${o.body.slice(0, 200)}`);
    const hasBody = a.probe.method !== 'HEAD' && !a.probe.upgrade;
    if (w2.status === 403 && o.status === 403 && hasBody && a.probe.route !== '/auth/session' && !/"outside_share"/.test(o.body))
      out.push(`${where}: 403 without outside_share: ${o.body.slice(0, 200)}`);
  }
  // Execute-only data only from the token's own target, on its read routes.
  const mayLeak = c.fixture && ('upgrade' in w2 || w2.status === 'handler') ? (c.target.type === 'pty' ? PTY_CANARIES : SESSION_CANARIES) : [];
  const leaked = a.leaked.filter(
    (n) => !mayLeak.includes(n) || !['/pty/:id', '/pty/:id/connect', '/session/:id', '/session/:id/message'].includes(a.probe.route),
  );
  if (leaked.length > 0) out.push(`${where} -> ${o.status} returned execute-only data: ${leaked.join(', ')}`);
  // A refusal, and a 404, do not depend on whether the id exists.
  if (a.fake && !('upgrade' in w2) && (w2.status === 403 || w2.status === 404)) {
    // (The message names the token's own target, which its holder knows: the same placeholder.)
    const norm = (s: string, id: string) => s.split(c.target.id).join('<id>').split(id).join('<id>');
    // The id is the segment where the real and the made-up path differ (wherever it sits).
    const realParts = a.probe.path.split('?')[0].split('/');
    const fakeParts = a.probe.fakePath!.split('?')[0].split('/');
    const at = realParts.findIndex((seg, i) => seg !== fakeParts[i]);
    const realId = realParts[at] ?? '';
    const fakeId = fakeParts[at] ?? '';
    if (a.fake.status !== o.status || norm(a.fake.body, fakeId) !== norm(o.body, realId))
      out.push(`${where}: the answer differs for a made-up id (${a.fake.status} ${a.fake.body.slice(0, 120)} vs ${o.status} ${o.body.slice(0, 120)})`);
  }
  return out;
}

describe('escalation matrix: share tokens', () => {
  it('reach their own target read only, 404 for another target, 403 everywhere else; start nothing, change nothing, see nothing else', async () => {
    const all: string[] = [];
    const attempt = prober(w, started);
    const seen: (Attempted & { label: string })[] = [];
    let requests = 0;
    for (const s of shares) {
      for (const cred of ['bearer', 'basic', 'protocol'] as const) {
        const c: ShareCaller = { label: `${s.label}/${cred}`, token: s.token, permissions: ['read'], cred, target: s.target, fixture: s.fixture };
        for (const p of probes(w.s.server.routes, w.fixture, s.token)) {
          if (cred === 'protocol' && !p.upgrade) continue;
          const a = await attempt(c, p, cred === 'bearer');
          requests += a.fake ? 2 : 1;
          all.push(...failures(c, a));
          if (cred === 'bearer' || cred === 'protocol') seen.push({ ...a, label: s.label });
        }
      }
    }
    expect(all).toEqual([]);
    expect(requests).toBeGreaterThan(4 * 2 * 60);
    // The checks can fire: the shared terminal's stream showed its output, the shared session its shell output.
    const leakedVia = (label: string, name: CanaryName) =>
      seen.filter((a) => a.label === label && a.leaked.includes(name)).map((a) => `${a.probe.upgrade ? 'WS' : a.probe.method} ${a.probe.route}`);
    expect(leakedVia('pty-own', 'ptyOutput')).toContain('WS /pty/:id/connect');
    expect(leakedVia('session-own', 'shellOutput')).toContain('GET /session/:id/message');
    // No marker, no process, settings untouched: also after the matrix as a whole.
    expect(fs.readdirSync(w.fixture.markerDir)).toEqual([]);
  }, 180_000);

  it('their event streams carried their own target only: no other terminal or session, no settings change', () => {
    for (const s of streams) {
      const text = s.stream.text();
      const events = text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { type: string; properties: Record<string, any> });
      const types = events.map((e) => e.type);
      expect(types, s.label).toContain('server.connected');
      expect(types, s.label).not.toContain('config.updated');
      for (const e of events.filter((x) => x.type !== 'server.connected')) {
        const p = e.properties;
        const id = s.target.type === 'pty' ? (p.info?.id ?? p.id) : (p.session?.id ?? p.sessionId);
        expect(e.type.startsWith(s.target.type === 'pty' ? 'pty.' : ''), `${s.label}: ${e.type}`).toBe(true);
        expect(id, `${s.label}: ${JSON.stringify(e).slice(0, 200)}`).toBe(s.target.id);
      }
      // Each saw its own target's rename.
      expect(types, s.label).toContain(s.target.type === 'pty' ? 'pty.updated' : 'session.updated');
      if (s.label !== 'session-other') expect(text, s.label).not.toContain('other-shell-output');
      if (!s.fixture) expect(canariesIn(text, w.canaries), s.label).toEqual([]);
    }
  });

  it('on its own terminal a share token types, resizes and sends garbage in vain', async () => {
    const own = shares.find((s) => s.label === 'pty-own')!;
    const pwned = path.join(w.fixture.markerDir, 'share-input.canary');
    const url = `${w.s.url.replace(/^http/, 'ws')}/pty/${w.fixture.ptyId}/connect`;
    const before = await admin('GET', `/pty/${w.fixture.ptyId}`);
    const v = await connect(url, { protocols: ['tether', `tether.auth.${own.token}`] });
    v.type(`touch ${pwned}\r`);
    v.control({ type: 'input', data: `touch ${pwned}\r` });
    v.control({ type: 'resize', cols: 20, rows: 5 });
    v.ws.send(Buffer.alloc(64 * 1024, 0x41), { binary: true });
    await new Promise<void>((r) => (v.ws.once('pong', () => r()), v.ws.ping()));
    const owner = await connect(url, { token: w.admin });
    owner.type('echo owner-check-$((11*11))\r');
    await owner.waitText('owner-check-121');
    await v.waitText('owner-check-121');
    expect(fs.existsSync(pwned)).toBe(false);
    expect(owner.text()).not.toContain('AAAAAAAA');
    expect(await admin('GET', `/pty/${w.fixture.ptyId}`)).toMatchObject({ cols: before.cols, rows: before.rows });
    v.close();
    owner.close();
  });
});
