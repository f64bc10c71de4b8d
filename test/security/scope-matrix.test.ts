// The scope matrix: every registered route x every token (unscoped admin as the self-test; one
// scope; two scopes; nested scopes; a scope only deep inside; a scope outside the project) x every
// directory (in scope, on the way to a scope, a sibling with the scope's name as prefix, a case
// variant, a symlink out of a scope). The routes come from the running server: a route added later
// fails the first test until it has a plan here. The event streams of every token were open
// throughout, and are checked last against everything the admin saw.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectWs, type ConnectOptions } from '../pty-routes/helpers.js';
import { mcpBare, mcpPost } from './scope-mcp.js';
import { DIRS, FILES, NEEDLE, SCOPED, reaches, setupScopeWorld, type Dir, type ScopeWorld, type TokenName } from './scope-world.js';

let w: ScopeWorld;
beforeAll(async () => {
  w = await setupScopeWorld();
}, 60_000);
afterAll(async () => w?.close());

const ALL: TokenName[] = ['admin', ...SCOPED];
type Kind = 'pty' | 'session';
const FAKE: Record<Kind, string> = { pty: 'pty_0000000000000000', session: 'ses_0000000000000000000000' };
/** Directories on the way to a token's scopes that it does not reach: listable, showing only the way. */
const WAY_ENTRIES: Record<TokenName, Partial<Record<Dir, string[]>>> = {
  admin: {},
  one: { '.': ['app'] },
  two: { '.': ['app', 'lib'] },
  nested: { '.': ['app'] },
  inner: { '.': ['app'], app: ['sub'] },
  outside: {},
};
/** Where a terminal or session starts when no directory is given. */
const DEFAULT_DIR: Record<TokenName, Dir | null> = { admin: '.', one: 'app', two: 'app', nested: 'app', inner: 'app/sub', outside: null };

type Failures = string[];
type Plan = (t: TokenName) => Promise<Failures>;
interface Reply {
  status: number;
  body: any;
  text: string;
}

const tok = (t: TokenName) => w.token[t];
const abs = (d: string) => (d === '.' ? w.s.project : `${w.s.project}/${d}`);
const outsideScope = (r: Reply) => r.status === 403 && r.body?.error?.code === 'outside_scope';
const show = (r: Reply) => `${r.status} ${r.text.slice(0, 160)}`;
const listOf = (kind: Kind, r: Reply): { id: string }[] => (kind === 'pty' ? r.body : r.body.sessions);

/** A by-id request for the fixture of `kind` in each directory: in scope -> `ok`; else exactly the unknown-id answer. */
function byId(method: string, route: string, kind: Kind, ok: number, body?: unknown): Plan {
  return async (t) => {
    const failures: Failures = [];
    for (const d of DIRS) {
      const id = w[kind][d];
      const r = await w.call(tok(t), method, route.replace(':id', id), body);
      if (t === 'outside') {
        if (!outsideScope(r)) failures.push(`outside ${method} ${route} (${d}): ${show(r)}`);
      } else if (reaches(t, d)) {
        if (r.status !== ok) failures.push(`${t} ${method} ${route} (${d}): ${show(r)}`);
      } else {
        const fake = await w.call(tok(t), method, route.replace(':id', FAKE[kind]), body);
        const same = r.status === 404 && r.text.split(id).join('ID') === fake.text.split(FAKE[kind]).join('ID');
        if (!same) failures.push(`${t} ${method} ${route} (${d}): ${show(r)} vs an unknown id: ${show(fake)}`);
      }
    }
    return failures;
  };
}

/** A list shows, of the fixture's resources, exactly those in reached directories. */
function lists(kind: Kind): Plan {
  return async (t) => {
    const r = await w.call(tok(t), 'GET', `/${kind}`);
    if (t === 'outside') return outsideScope(r) ? [] : [`outside GET /${kind}: ${show(r)}`];
    const ids = new Set(listOf(kind, r).map((x) => x.id));
    const got = DIRS.filter((d) => ids.has(w[kind][d]));
    const want = DIRS.filter((d) => reaches(t, d));
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${t} GET /${kind}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
  };
}

/** Creating in each directory, in tricky spellings, and with none given: inside -> 201 there; else 403 outside_scope, nothing made. */
function creates(kind: Kind): Plan {
  const field = kind === 'pty' ? 'cwd' : 'directory';
  const count = async () => listOf(kind, await w.call(w.token.admin, 'GET', `/${kind}`)).length;
  return async (t) => {
    const failures: Failures = [];
    const before = await count();
    const tries: [given: string | undefined, lands: Dir | null][] = [
      ...DIRS.map((d): [string, Dir | null] => [d, reaches(t, d) ? d : null]),
      [undefined, DEFAULT_DIR[t]],
      [`${w.s.project}/app`, reaches(t, 'app') ? 'app' : null],
      ['app/out', t === 'admin' ? 'secret' : null],
      ['app/../secret', reaches(t, 'secret') ? 'secret' : null],
      ['app/sub/../../app2', reaches(t, 'app2') ? 'app2' : null],
    ];
    for (const [given, lands] of tries) {
      const body = { ...(kind === 'pty' ? { command: 'sleep', args: ['600'] } : {}), ...(given === undefined ? {} : { [field]: given }) };
      const r = await w.call(tok(t), 'POST', `/${kind}`, body);
      if (r.status === 201) await w.call(w.token.admin, 'DELETE', `/${kind}/${r.body.id}`);
      if (lands === null) {
        if (!outsideScope(r)) failures.push(`${t} POST /${kind} ${field}=${given}: ${show(r)}`);
      } else if (r.status !== 201 || r.body[field] !== abs(lands)) {
        failures.push(`${t} POST /${kind} ${field}=${given}: ${show(r)}, want 201 in ${lands}`);
      }
    }
    if ((await count()) !== before) failures.push(`${t} POST /${kind}: the number of ${kind}s changed`);
    return failures;
  };
}

/** Deleting: every fixture outside the scopes answers like an unknown id and survives; one inside is deleted. */
function deletes(kind: Kind, ok: number): Plan {
  return async (t) => {
    const failures: Failures = [];
    for (const d of DIRS) {
      if (reaches(t, d) && t !== 'outside') continue; // the fixtures stay for the other plans; see below
      const id = w[kind][d];
      const r = await w.call(tok(t), 'DELETE', `/${kind}/${id}`);
      const fake = await w.call(tok(t), 'DELETE', `/${kind}/${FAKE[kind]}`);
      const like = t === 'outside' ? outsideScope(r) : r.status === 404 && r.text.split(id).join('ID') === fake.text.split(FAKE[kind]).join('ID');
      if (!like) failures.push(`${t} DELETE /${kind} (${d}): ${show(r)}`);
      if ((await w.call(w.token.admin, 'GET', `/${kind}/${id}`)).status !== 200) failures.push(`${t} DELETE /${kind} (${d}): it is gone`);
    }
    if (t !== 'outside') {
      const body = kind === 'pty' ? { command: 'sleep', args: ['600'], cwd: 'app/sub' } : { directory: 'app/sub' };
      const id = (await w.call(w.token.admin, 'POST', `/${kind}`, body)).body.id as string;
      const r = await w.call(tok(t), 'DELETE', `/${kind}/${id}`);
      if (r.status !== ok) failures.push(`${t} DELETE its own ${kind}: ${show(r)}`);
    }
    return failures;
  };
}

const okUnlessOutside =
  (method: string, p: string, body?: unknown): Plan =>
  async (t) => {
    const r = await w.call(tok(t), method, p, body);
    return (t === 'outside' ? outsideScope(r) : r.status === 200) ? [] : [`${t} ${method} ${p}: ${show(r)}`];
  };

const publicRoute =
  (p: string): Plan =>
  async (t) => {
    const r = await w.call(tok(t), 'GET', p);
    return r.status === 200 ? [] : [`${t} GET ${p}: ${show(r)}`];
  };

// --- the file routes ---

const listing: Plan = async (t) => {
  const failures: Failures = [];
  for (const d of [...DIRS, 'app/out'] as const) {
    const r = await w.call(tok(t), 'GET', `/file?path=${encodeURIComponent(d)}`);
    const way = d === 'app/out' ? undefined : WAY_ENTRIES[t][d];
    if (d === 'app/out' ? t === 'admin' : reaches(t, d)) {
      if (r.status !== 200) failures.push(`${t} GET /file ${d}: ${show(r)}`);
    } else if (way) {
      const names = r.status === 200 ? r.body.entries.map((e: { name: string }) => e.name) : null;
      if (JSON.stringify(names) !== JSON.stringify(way)) failures.push(`${t} GET /file ${d}: ${show(r)}, want only ${way.join(', ')}`);
    } else if (!outsideScope(r)) {
      failures.push(`${t} GET /file ${d}: ${show(r)}`);
    }
  }
  return failures;
};

const content: Plan = async (t) => {
  const failures: Failures = [];
  const cases: [string, boolean][] = [...Object.entries(FILES).map(([f, d]): [string, boolean] => [f, reaches(t, d)]), ['app/out/k.txt', t === 'admin']];
  for (const [f, ok] of cases) {
    const r = await w.call(tok(t), 'GET', `/file/content?path=${encodeURIComponent(f)}`);
    if (ok ? r.status !== 200 || !r.body.content.includes(NEEDLE) : !outsideScope(r)) failures.push(`${t} GET /file/content ${f}: ${show(r)}`);
  }
  // A missing file: 404 inside a scope, and outside the same 403 as an existing one (existence never shows).
  for (const [f, d] of [
    ['app/sub/missing.txt', 'app/sub'],
    ['secret/missing.txt', 'secret'],
    ['app2/missing.txt', 'app2'],
    // Through the symlink out of `app`: refused by where it leads, before anything is opened.
    ['app/out/missing.txt', 'secret'],
  ] as [string, Dir][]) {
    const r = await w.call(tok(t), 'GET', `/file/content?path=${f}`);
    if (reaches(t, d) ? r.status !== 404 : !outsideScope(r)) failures.push(`${t} GET /file/content ${f}: ${show(r)}`);
  }
  return failures;
};

/** Writes and deletes: inside a scope they happen; outside, the same 403 whether or not the file exists, and nothing changes. */
const writes: Plan = async (t) => {
  const failures: Failures = [];
  for (const [f, d] of [...Object.entries(FILES), ['app/out/k.txt', 'secret']] as [string, Dir][]) {
    const target = `${f}.w-${t}`;
    const abs = path.join(w.s.project, target);
    const r = await w.call(tok(t), 'PUT', `/file/content?path=${encodeURIComponent(target)}`, { content: `written by ${t}` });
    const ok = f === 'app/out/k.txt' ? t === 'admin' : reaches(t, d);
    if (ok ? r.status !== 201 && r.status !== 200 : !outsideScope(r)) failures.push(`${t} PUT /file/content ${target}: ${show(r)}`);
    if (!ok && fs.existsSync(abs)) failures.push(`${t} PUT /file/content ${target}: the file was written`);
    // Gone again, so the searches and listings of the other plans see the world they expect.
    fs.rmSync(abs, { force: true });
  }
  return failures;
};

const deletes_: Plan = async (t) => {
  const failures: Failures = [];
  for (const [f, d] of Object.entries<Dir>(FILES)) {
    const target = `${f}.d-${t}`;
    const abs = path.join(w.s.project, target);
    fs.writeFileSync(abs, 'to delete');
    const r = await w.call(tok(t), 'DELETE', `/file?path=${encodeURIComponent(target)}`);
    if (reaches(t, d) ? r.status !== 204 : !outsideScope(r)) failures.push(`${t} DELETE /file ${target}: ${show(r)}`);
    if (!reaches(t, d) && !fs.existsSync(abs)) failures.push(`${t} DELETE /file ${target}: the file is gone`);
    fs.rmSync(abs, { force: true });
  }
  return failures;
};

/** A search names exactly the files the token reaches. */
const search =
  (p: string, key: (r: Reply) => string[]): Plan =>
  async (t) => {
    const r = await w.call(tok(t), 'GET', p);
    if (t === 'outside') return outsideScope(r) ? [] : [`outside GET ${p}: ${show(r)}`];
    const want = Object.entries(FILES)
      .filter(([, d]) => reaches(t, d))
      .map(([f]) => f)
      .sort();
    const got = r.status === 200 ? [...new Set(key(r))].sort() : [];
    return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${t} GET ${p}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
  };

// --- terminals: the WebSocket ---

/** A WebSocket handshake: upgraded (then closed at once), or the refusal's status. */
async function upgrade(p: string, opts: ConnectOptions): Promise<{ upgraded: boolean; status: number }> {
  try {
    const c = await connectWs(`${w.s.url.replace(/^http/, 'ws')}${p}`, opts);
    c.ws.terminate();
    return { upgraded: true, status: 101 };
  } catch (err) {
    return { upgraded: false, status: (err as { status?: number }).status ?? 0 };
  }
}

const connect: Plan = async (t) => {
  const failures: Failures = [];
  for (const d of DIRS) {
    const p = `/pty/${w.pty[d]}/connect`;
    const plain = await w.call(tok(t), 'GET', p);
    const inside = reaches(t, d);
    const wantPlain = t === 'outside' ? 403 : inside ? 426 : 404;
    if (plain.status !== wantPlain) failures.push(`${t} GET ${p} (${d}): ${show(plain)}`);
    const ways: [string, ConnectOptions][] = [
      ['header', { token: tok(t), protocols: ['tether'] }],
      ['subprotocol', { protocols: ['tether', `tether.auth.${tok(t)}`] }],
    ];
    for (const [how, opts] of ways) {
      const a = await upgrade(p, opts);
      const ok = inside ? a.upgraded : !a.upgraded && a.status === (t === 'outside' ? 403 : 404);
      if (!ok) failures.push(`${t} WS ${p} (${d}, ${how}): upgraded=${a.upgraded} ${a.status}`);
    }
  }
  return failures;
};

const ticket: Plan = async (t) => {
  const failures = await byId('POST', '/pty/:id/ticket', 'pty', 201)(t);
  if (t !== 'outside') {
    // A ticket of an in-scope terminal opens it, as the token it was issued to.
    const d: Dir = t === 'admin' ? 'secret' : 'app/sub';
    const r = await w.call(tok(t), 'POST', `/pty/${w.pty[d]}/ticket`);
    const a = await upgrade(r.body.url, { protocols: ['tether'] });
    if (!a.upgraded) failures.push(`${t} ticket for ${d}: ${a.status}`);
  }
  return failures;
};

/** Refused to every scoped token (403 outside_scope); the admin gets `ok`. */
const adminOnly =
  (method: string, p: () => string, ok: number, body?: unknown): Plan =>
  async (t) => {
    const r = await w.call(tok(t), method, p(), body);
    return (t === 'admin' ? r.status === ok : outsideScope(r)) ? [] : [`${t} ${method} ${p()}: ${show(r)}`];
  };

/** Pairing: any token may pair a device; a scoped one's device inherits its scopes (never more). */
const pairCode: Plan = async (t) => {
  const r = await w.call(tok(t), 'POST', '/auth/pair/code', {});
  if (r.status !== 201) return [`${t} POST /auth/pair/code: ${show(r)}`];
  const want = JSON.stringify(w.scopes[t] ?? null);
  return JSON.stringify(r.body.grant.scopes ?? null) === want
    ? []
    : [`${t} POST /auth/pair/code: grant scopes ${JSON.stringify(r.body.grant.scopes)}, want ${want}`];
};
const pairCodeById =
  (method: 'GET' | 'DELETE'): Plan =>
  async (t) => {
    const made = await w.call(tok(t), 'POST', '/auth/pair/code', {});
    const r = await w.call(tok(t), method, `/auth/pair/code/${made.body?.id}`);
    return r.status >= 200 && r.status < 300 ? [] : [`${t} ${method} /auth/pair/code/:id: ${show(r)}`];
  };

// --- the plans, one per registered route ---

const PLANS: Record<string, Plan> = {
  'GET /health': publicRoute('/health'),
  'GET /': publicRoute('/'),
  'GET /ui/*': publicRoute('/ui/app.js'),
  'POST /auth/session': async (t) => {
    // A web login carries the token's scopes: the cookie reaches what the token does.
    const login = await w.s.fetch('/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: tok(t) }),
    });
    if (login.status !== 200) return [`${t} POST /auth/session: ${login.status}`];
    const cookie = /tether_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1];
    const key = ((await login.json()) as { sessionKey: string }).sessionKey;
    const headers = { cookie: `tether_session=${cookie}`, 'x-tether-session': key };
    const failures: Failures = [];
    for (const d of ['secret', 'app/sub'] as Dir[]) {
      const r = await w.call('', 'GET', `/file?path=${d}`, undefined, headers);
      if (reaches(t, d) ? r.status !== 200 : !outsideScope(r)) failures.push(`${t} cookie GET /file ${d}: ${show(r)}`);
    }
    const who = await w.call('', 'GET', '/auth/whoami', undefined, headers);
    if (JSON.stringify(who.body?.scopes ?? null) !== JSON.stringify(w.scopes[t])) failures.push(`${t} cookie whoami: ${show(who)}`);
    await w.s.fetch('/auth/session', { method: 'DELETE', headers: { ...headers, origin: w.s.url } });
    return failures;
  },
  'DELETE /auth/session': async (t) => {
    const r = await w.s.fetch('/auth/session', { method: 'DELETE', headers: { origin: w.s.url } });
    return r.status < 300 ? [] : [`${t} DELETE /auth/session: ${r.status}`];
  },
  'GET /auth/whoami': async (t) => {
    const r = await w.call(tok(t), 'GET', '/auth/whoami');
    const basic = await w.call('', 'GET', '/auth/whoami', undefined, { authorization: `Basic ${Buffer.from(`x:${tok(t)}`).toString('base64')}` });
    const ok = (x: Reply) => x.status === 200 && JSON.stringify(x.body.scopes ?? null) === JSON.stringify(w.scopes[t]);
    return ok(r) && ok(basic) ? [] : [`${t} GET /auth/whoami: ${show(r)} / basic ${show(basic)}`];
  },
  'GET /doc': okUnlessOutside('GET', '/doc'),
  'GET /config': okUnlessOutside('GET', '/config'),
  'PATCH /config': async (t) => {
    const r = await w.call(tok(t), 'PATCH', '/config', { agentMaxSteps: 7 });
    const ok = t === 'admin' ? r.status === 200 : outsideScope(r) && (t === 'outside' || /server-wide/.test(r.body.error.message));
    return ok ? [] : [`${t} PATCH /config: ${show(r)}`];
  },
  'GET /file': listing,
  'GET /file/content': content,
  'PUT /file/content': writes,
  'DELETE /file': deletes_,
  'GET /find/file': search('/find/file?query=.txt&limit=1000', (r) => r.body.results.map((x: { path: string }) => x.path)),
  'GET /find': search(`/find?pattern=${NEEDLE}&limit=1000`, (r) => r.body.results.map((x: { path: string }) => x.path)),
  'GET /event': async (t) => {
    const r = await w.call(tok(t), 'HEAD', '/event');
    return (t === 'outside' ? r.status === 403 : r.status === 200) ? [] : [`${t} HEAD /event: ${r.status}`];
  },
  'GET /pty': lists('pty'),
  'POST /pty': creates('pty'),
  'GET /pty/:id': byId('GET', '/pty/:id', 'pty', 200),
  'PUT /pty/:id': byId('PUT', '/pty/:id', 'pty', 200, { cols: 100, rows: 30 }),
  'DELETE /pty/:id': deletes('pty', 204),
  'POST /pty/:id/ticket': ticket,
  'GET /pty/:id/connect': connect,
  'GET /session': lists('session'),
  'POST /session': creates('session'),
  'GET /session/:id': byId('GET', '/session/:id', 'session', 200),
  'PATCH /session/:id': byId('PATCH', '/session/:id', 'session', 200, { title: 'renamed' }),
  'DELETE /session/:id': deletes('session', 200),
  'GET /session/:id/message': byId('GET', '/session/:id/message', 'session', 200),
  'POST /session/:id/message': byId('POST', '/session/:id/message', 'session', 200, { text: 'hello' }),
  'POST /session/:id/shell': byId('POST', '/session/:id/shell', 'session', 200, { command: 'pwd' }),
  'POST /session/:id/abort': byId('POST', '/session/:id/abort', 'session', 200),
  'GET /.well-known/oauth-protected-resource/mcp': publicRoute('/.well-known/oauth-protected-resource/mcp'),
  'GET /share': publicRoute('/share'),
  'GET /pair': publicRoute('/pair'),
  'POST /auth/pair': async (t) => {
    // Takes a code, never a token: every caller with a made-up code gets the same 410.
    const r = await w.call(tok(t), 'POST', '/auth/pair', { code: 'x'.repeat(22) });
    return r.status === 410 ? [] : [`${t} POST /auth/pair: ${show(r)}`];
  },
  'POST /auth/pair/code': pairCode,
  'GET /auth/pair/code/:id': pairCodeById('GET'),
  'DELETE /auth/pair/code/:id': pairCodeById('DELETE'),
  'GET /audit': adminOnly('GET', () => '/audit?limit=1', 200),
  'POST /pty/:id/share': adminOnly('POST', () => `/pty/${w.pty['app/sub']}/share`, 201, {}),
  'POST /session/:id/share': adminOnly('POST', () => `/session/${w.session['app/sub']}/share`, 201, {}),
  'POST /mcp': mcpPost(
    () => w,
    (t) => (DEFAULT_DIR[t] === null ? null : abs(DEFAULT_DIR[t])),
  ),
  'GET /mcp': mcpBare(() => w, 'GET'),
  'DELETE /mcp': mcpBare(() => w, 'DELETE'),
};

describe('scope matrix', () => {
  it('has a plan for every registered route, and every plan is a registered route', () => {
    const registered = [...new Set(w.s.server.routes.map((r) => `${r.method} ${r.path}`))].sort();
    expect(registered.length).toBeGreaterThan(25);
    expect(Object.keys(PLANS).sort()).toEqual(registered);
  });

  for (const route of Object.keys(PLANS)) {
    it(`${route}: every token reaches exactly its scopes`, async () => {
      const failures: Failures = [];
      for (const t of ALL) failures.push(...(await PLANS[route](t)));
      expect(failures).toEqual([]);
    }, 60_000);
  }

  it('shell commands and prompts in reached sessions ran there, and none reached the model from outside', async () => {
    const r = await w.call(w.token.admin, 'GET', `/session/${w.session['app/sub']}/message`);
    const shells = r.body.messages.filter((m: { role: string }) => m.role === 'shell').map((m: any) => m.parts[0].data.stdout.trim());
    expect(new Set(shells)).toEqual(new Set([abs('app/sub')]));
    // Prompts: one per token that reaches the directory, never one from a token that does not.
    const prompts = (d: Dir) => w.model.requests.filter((q) => JSON.stringify(q.body).includes(abs(d))).length;
    expect(prompts('secret')).toBe(1);
    expect(prompts('app/sub')).toBe(ALL.filter((t) => reaches(t, 'app/sub')).length);
  });

  it('event streams: each scoped token saw exactly the events about its scopes, and never a name outside them', async () => {
    // A last event every stream sees: once it has arrived, everything before it has too.
    expect((await w.call(w.token.admin, 'PATCH', '/config', { agentMaxSteps: 9 })).status).toBe(200);
    for (const t of ALL.filter((x) => x !== 'outside')) await w.streams[t].waitFor((x) => x.includes('"agentMaxSteps":9'), `${t} stream`);
    const events = (t: TokenName) =>
      w.streams[t]
        .text()
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { type: string; properties: any });
    // Which directory each terminal and session is in, from what the admin saw.
    const dirOf = new Map<string, string>();
    for (const e of events('admin')) {
      if (e.properties.info?.cwd) dirOf.set(e.properties.info.id, e.properties.info.cwd);
      if (e.properties.session?.directory) dirOf.set(e.properties.session.id, e.properties.session.directory);
    }
    const subject = (e: { properties: any }) => e.properties.info?.id ?? e.properties.id ?? e.properties.session?.id ?? e.properties.sessionId;
    const key = (e: { type: string; properties: any }) => `${e.type} ${subject(e) ?? e.properties.path} ${JSON.stringify(e.properties).length}`;
    for (const t of SCOPED.filter((x) => x !== 'outside')) {
      const reachedAbs = (p: string) => DIRS.some((d) => reaches(t, d) && abs(d) === p);
      // File changes are about the directory of the file written or deleted.
      const fileDir = (e: { type: string; properties: any }) =>
        e.type.startsWith('file.') ? path.dirname(path.join(w.s.project, e.properties.path as string)) : undefined;
      const want = events('admin').filter(
        (e) =>
          e.type === 'config.updated' || (fileDir(e) !== undefined ? reachedAbs(fileDir(e)!) : subject(e) !== undefined && reachedAbs(dirOf.get(subject(e))!)),
      );
      const got = events(t).filter((e) => !e.type.startsWith('server.'));
      expect(got.map(key), t).toEqual(want.map(key));
      expect(got.length, t).toBeGreaterThan(20);
      const text = w.streams[t].text();
      for (const d of DIRS.filter((x) => !reaches(t, x))) expect(text, `${t} saw ${d}`).not.toContain(JSON.stringify(abs(d)));
    }
    expect(w.streams.outside.status()).toBe(403);
  });
});
