// The escalation matrix (DESIGN 3a): for every registered route and method (plus HEAD and a
// WebSocket upgrade on every GET, OPTIONS on every path), every token lacking execute (read, write,
// read+write, each presented as Bearer, Basic, web-login cookie and WebSocket subprotocol) and no
// token at all, and every settings key, two canaries prove that:
// 1. no process is started by the server (its process tree, groups and sessions before and after
//    each request, and marker files the attacker's commands would leave), and
// 2. no execute-only data (terminal output, shell commands and output, agent prompts, tool calls and
//    results, replies, titles, the API key) is in any status line, header, body or event stream.
// The routes come from the running server, so a route added later is in the matrix, and fails it
// without a policy entry. A final self-test runs the same checks with an admin token: they must fire.
import fs from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeRule } from '../../src/auth/policy.js';
import { settingsShape } from '../../src/config/settings.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../helpers/proc.js';
import { canariesIn, concretePath, marker, probes, settingsAttacks, SETTINGS_KEYS, type CanaryName } from './escalation-plan.js';
import { prober, weakFailures, type Attempted } from './escalation-run.js';
import { setupWorld, webLogin, WEAK, type Caller, type World } from './escalation-setup.js';
import { readStat, type ProcInfo } from './escalation-procs.js';

let w: World;
const adminGet = async (p: string) => (await w.s.fetch(p, { token: w.admin })).text();
/** Processes the matrix made the server start (the self-test's, or a regression's): ended at the end. */
const started: ProcInfo[] = [];

let settingsBefore: { shown: string; file: string; modelRequests: number };

beforeAll(async () => {
  w = await setupWorld();
  settingsBefore = { shown: await adminGet('/config'), file: fs.readFileSync(w.settingsFile, 'utf8'), modelRequests: w.model.requests.length };
}, 60_000);

afterAll(async () => {
  await w?.close();
  // Only the very process seen (same pid and start time), never a later one that reused its pid.
  for (const p of started) if (isAlive(p.pid) && readStat(p.pid)?.start === p.start) process.kill(p.pid, 'SIGKILL');
});

const callers = (): Caller[] => [
  { label: 'no token', permissions: [], cred: 'none' },
  ...Object.entries(WEAK).flatMap(([k, permissions]) =>
    (['bearer', 'basic', 'cookie', 'protocol'] as const).map((cred): Caller => ({ label: `${k}/${cred}`, token: w.weak[k], permissions, cred })),
  ),
];

let matrixRequests = 0;

describe('escalation matrix', () => {
  it('covers every registered route, each with its own policy entry, and every settings key', () => {
    const routes = w.s.server.routes;
    expect(routes.length).toBeGreaterThan(25);
    // A route the policy table does not name would fall back to the method rule alone.
    const unnamed = routes.filter((r) => routeRule(r.method, concretePath(r.path, w.fixture).split('?')[0])?.path !== r.path);
    expect(unnamed, 'routes without their own entry in ROUTE_RULES (src/auth/policy.ts)').toEqual([]);
    // Every route is probed with a real id (concretePath throws for a parameter it cannot fill).
    const sent = new Set(probes(routes, w.fixture, undefined).map((p) => `${p.upgrade ? 'WS' : p.method} ${p.route}`));
    for (const r of routes) expect(sent, `${r.method} ${r.path}`).toContain(`${r.method} ${r.path}`);
    for (const r of routes.filter((x) => x.method === 'GET')) expect(sent).toContain(`WS ${r.path}`);
    // Every setting is attacked, with values an admin could set.
    const attacked = new Set(settingsAttacks(w.fixture).flatMap(([, body]) => Object.keys(body)));
    expect([...attacked].sort()).toEqual([...SETTINGS_KEYS].sort());
    for (const [key, body] of settingsAttacks(w.fixture)) {
      for (const [k, v] of Object.entries(body))
        expect(settingsShape[k as keyof typeof settingsShape].nullable().safeParse(v).success, `${key}: ${k}=${JSON.stringify(v)}`).toBe(true);
    }
  });

  it('no token lacking execute starts a process or sees execute-only data, on any route, method or upgrade', async () => {
    const failures: string[] = [];
    const attempt = prober(w, started);
    for (const c of callers()) {
      if (c.cred === 'cookie') c.login = await webLogin(w.s, c.token!);
      for (const p of probes(w.s.server.routes, w.fixture, c.token)) {
        // The subprotocol is a credential only on an upgrade.
        if (c.cred === 'protocol' && !p.upgrade) continue;
        // A refusal must not depend on whether the id exists (once per token suffices).
        const a = await attempt(c, p, c.cred === 'bearer' || c.cred === 'none');
        matrixRequests += a.fake ? 2 : 1;
        failures.push(...weakFailures(w, c, a));
      }
    }
    expect(failures).toEqual([]);
    expect(matrixRequests).toBeGreaterThan(13 * 60);
    // ~1100 requests: a few seconds on an idle machine, more on a loaded one.
  }, 120_000);

  it('one keep-alive connection shared by an admin and weak callers (a proxy pooling upstream sockets): each request gets only its own token', async () => {
    // The guard memoises the token a connection last proved (src/auth/verify-memo.ts). A weak or
    // forged credential riding the socket an admin token just used must gain nothing from it.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, authorization?: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.request(
          `${w.s.url}${path}`,
          { method, agent, headers: { ...(authorization && { authorization }), 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end(method === 'GET' ? undefined : '{}');
      });
    try {
      const admin = `Bearer ${w.admin}`;
      const near = `Bearer ${w.admin.slice(0, -1)}${w.admin.endsWith('a') ? 'b' : 'a'}`;
      expect(await call('GET', '/auth/whoami', admin)).toEqual({ status: 200, reused: false });
      const after: [string, string, string | undefined, number][] = [
        ['POST', '/pty', `Bearer ${w.weak.r}`, 403],
        ['POST', '/pty', `Bearer ${w.weak.rw}`, 403],
        ['GET', '/pty', undefined, 401],
        ['GET', '/pty', near, 401],
        ['GET', '/pty', `Basic ${Buffer.from(`x:${w.admin.slice(0, -1)}`).toString('base64')}`, 401],
        ['GET', '/auth/whoami', admin, 200],
        ['POST', '/pty', `Bearer ${w.weak.w}`, 403],
      ];
      for (const [method, path, auth, status] of after) {
        expect({ method, path, auth: auth?.slice(0, 12), ...(await call(method, path, auth)) }).toEqual({
          method,
          path,
          auth: auth?.slice(0, 12),
          status,
          reused: true,
        });
      }
    } finally {
      agent.destroy();
    }
  });

  it('no token lacking execute changes a setting: every key refused, settings byte-identical, prompts still go to the configured model', async () => {
    const failures: string[] = [];
    const attempt = prober(w, started);
    for (const c of callers().filter((x) => x.cred !== 'protocol')) {
      if (c.cred === 'cookie') c.login = await webLogin(w.s, c.token!);
      for (const [key, body] of settingsAttacks(w.fixture)) {
        const a = await attempt(c, { method: 'PATCH', route: '/config', path: '/config', upgrade: false, body }, false);
        matrixRequests++;
        failures.push(...weakFailures(w, c, a).map((f) => `[${key}] ${f}`));
      }
    }
    expect(failures).toEqual([]);
    expect(await adminGet('/config')).toBe(settingsBefore.shown);
    // The file too: GET /config never shows the API key.
    expect(fs.readFileSync(w.settingsFile, 'utf8')).toBe(settingsBefore.file);
    // No prompt reached any model during the matrix; the next admin prompt goes where the admin said.
    expect(w.model.requests.length).toBe(settingsBefore.modelRequests);
    expect(w.attacker.requests).toEqual([]);
    const r = await w.s.fetch(`/session/${w.fixture.sessionId}/message`, {
      method: 'POST',
      token: w.admin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'after the matrix' }),
    });
    expect(r.status).toBe(200);
    expect(w.attacker.requests).toEqual([]);
    const last = w.model.requests.at(-1)!;
    expect(last.body.model).toBe('test-model');
    expect(last.headers.authorization).toBe(`Bearer ${w.canaries.apiKey}`);
    // The default shell is still the default: a terminal without a command does not run the attacker's.
    const pty = await (await w.s.fetch('/pty', { method: 'POST', token: w.admin, headers: { 'content-type': 'application/json' }, body: '{}' })).json();
    expect(pty.command).not.toBe(w.fixture.evilShell);
    expect((await w.s.fetch(`/pty/${pty.id}`, { method: 'DELETE', token: w.admin })).status).toBe(204);
    expect(fs.readdirSync(w.fixture.markerDir)).toEqual([]);
  }, 60_000);

  it('the event streams held open by weak tokens saw lifecycle events but no canary', async () => {
    // The admin stream saw everything it should (it also proves the streams were live throughout).
    await w.adminStream.waitFor((t) => t.includes('config.updated'), 'config.updated');
    for (const { caller, stream } of w.weakStreams) {
      const text = stream.text();
      expect(canariesIn(text, w.canaries), caller.label).toEqual([]);
      if (caller.permissions.includes('read')) {
        expect(text, caller.label).toContain('server.connected');
        expect(text, caller.label).toContain('config.updated');
        // Interactive events are not delivered to tokens without execute at all.
        expect(text, caller.label).not.toMatch(/"type":"(pty|session|message)\./);
      } else {
        expect(stream.status(), caller.label).toBe(403);
      }
    }
  });

  it('self-test: with an admin token the same checks see the canaries, the processes, the markers and the settings change', async () => {
    const admin: Caller = { label: 'admin/bearer', token: w.admin, permissions: ['read', 'write', 'execute'], cred: 'bearer' };
    const attempts: Attempted[] = [];
    const attempt = prober(w, started);
    for (const p of probes(w.s.server.routes, w.fixture, w.admin)) attempts.push(await attempt(admin, p, false));

    // The bodies are valid: each registered route answered the admin with success (the terminal
    // stream answers a plain GET 426, and upgrades).
    const registered = new Set(w.s.server.routes.map((r) => `${r.method} ${r.path}`));
    const refused = attempts.filter(
      (a) =>
        !a.probe.upgrade &&
        registered.has(`${a.probe.method} ${a.probe.route}`) &&
        (a.outcome.status < 200 || a.outcome.status > 299) &&
        !(a.probe.route === '/pty/:id/connect' && a.outcome.status === 426) &&
        // MCP needs a session and its headers: escalation-mcp.test.ts drives every tool that way.
        a.probe.route !== '/mcp' &&
        // OAuth needs a client's flow (registration, PKCE, a pending request): escalation-oauth.test.ts.
        !a.probe.route.startsWith('/oauth/'),
    );
    expect(refused.map((a) => `${a.probe.method} ${a.probe.path} -> ${a.outcome.status} ${a.outcome.body.slice(0, 160)}`)).toEqual([]);
    expect(attempts.find((a) => a.probe.upgrade && a.probe.route === '/pty/:id/connect')?.outcome.upgraded).toBe(true);

    // Canary 2 fires: every execute-only canary came back through some route; the key never does.
    const seen = new Set<CanaryName>(attempts.flatMap((a) => a.leaked));
    const expected: CanaryName[] = [
      'ptyInput',
      'ptyOutput',
      'ptyTitle',
      'sessionTitle',
      'shellCommand',
      'shellOutput',
      'prompt',
      'toolInput',
      'toolOutput',
      'reply',
    ];
    expect([...seen].sort()).toEqual([...expected].sort());
    const via = (name: CanaryName) => attempts.filter((a) => a.leaked.includes(name)).map((a) => `${a.probe.upgrade ? 'WS' : a.probe.method} ${a.probe.route}`);
    expect(via('ptyOutput')).toContain('WS /pty/:id/connect');
    expect(via('shellOutput')).toContain('GET /session/:id/message');
    // ...and on the event stream, which only execute may see.
    expect(canariesIn(w.adminStream.text(), w.canaries)).toEqual(expect.arrayContaining(['ptyTitle', 'sessionTitle', 'prompt', 'reply']));

    // Canary 1 fires: processes appeared, including the daemon that left its session (found by the
    // environment marker alone), and every command left its marker.
    const spawnedBy = (route: string) => attempts.filter((a) => a.probe.route === route && a.spawned.length > 0);
    expect(spawnedBy('/pty')).toHaveLength(1);
    const shellSpawned = spawnedBy('/session/:id/shell').flatMap((a) => a.spawned);
    const daemon = shellSpawned.find((p) => p.sid === p.pid);
    expect(daemon, 'the daemon started by POST /session/:id/shell in a session of its own').toBeDefined();
    expect(fs.readdirSync(w.fixture.markerDir).sort()).toEqual(['agent.canary', 'daemon.canary', 'pty.canary', 'shell.canary']);

    // The settings detectors fire: the settings changed, prompts went to the attacker's model, and
    // a terminal without a command now runs the attacker's shell.
    expect(attempts.filter((a) => a.settingsChanged).map((a) => `${a.probe.method} ${a.probe.route}`)).toEqual(['PATCH /config']);
    expect(await adminGet('/config')).not.toBe(settingsBefore.shown);
    expect(fs.readFileSync(w.settingsFile, 'utf8')).not.toBe(settingsBefore.file);
    expect(w.attacker.requests.length).toBeGreaterThan(0);
    const res = await w.s.fetch('/pty', { method: 'POST', token: w.admin, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await res.json()).command).toBe(w.fixture.evilShell);
    await waitFor(() => fs.existsSync(marker(w.fixture, 'evil-shell')), { what: 'the attacker shell to run' });
  }, 60_000);
});
