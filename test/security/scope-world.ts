// The world the scope matrix runs in: a server with every production route, a project with
// directories in and out of scope (a sibling whose name has a scope as its prefix, a case variant,
// a symlink leading out of a scope), scoped tokens (one scope, two scopes, nested scopes, a scope
// only deep inside, a scope outside the project), and a terminal and a session in every directory,
// made by an unscoped admin. Event streams of every token are open before anything is made.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createToken } from '../../src/auth/token-admin.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openStream, type RecordedStream } from './escalation-http.js';

/** Directories of the project (relative); '.' is the project itself. */
export const DIRS = ['.', 'app', 'app/sub', 'app2', 'App', 'lib', 'secret'] as const;
export type Dir = (typeof DIRS)[number];

/** Files, each holding NEEDLE and its own name, so a search names exactly what it reached. */
export const FILES: Record<string, Dir> = {
  'top.txt': '.',
  'app/a.txt': 'app',
  'app/sub/s.txt': 'app/sub',
  'app2/b.txt': 'app2',
  'App/c.txt': 'App',
  'lib/l.txt': 'lib',
  'secret/k.txt': 'secret',
};
export const NEEDLE = 'scopeneedle';

export type TokenName = 'admin' | 'one' | 'two' | 'nested' | 'inner' | 'outside';

/** Each scoped token's scopes (relative to the project, except `outside`) and the directories it reaches. */
export const TOKENS: Record<Exclude<TokenName, 'admin'>, { scopes: string[]; reaches: Dir[] }> = {
  one: { scopes: ['app'], reaches: ['app', 'app/sub'] },
  two: { scopes: ['app', 'lib'], reaches: ['app', 'app/sub', 'lib'] },
  nested: { scopes: ['app', 'app/sub'], reaches: ['app', 'app/sub'] },
  inner: { scopes: ['app/sub'], reaches: ['app/sub'] },
  outside: { scopes: [], reaches: [] },
};
export const SCOPED = Object.keys(TOKENS) as Exclude<TokenName, 'admin'>[];

export function reaches(token: TokenName, dir: Dir): boolean {
  return token === 'admin' || TOKENS[token].reaches.includes(dir);
}

export interface ScopeWorld {
  s: TestServer;
  model: FakeModel;
  token: Record<TokenName, string>;
  /** Absolute real scope paths of each token. */
  scopes: Record<TokenName, string[] | null>;
  /** Where a scope outside the project lies. */
  elsewhere: string;
  pty: Record<Dir, string>;
  session: Record<Dir, string>;
  streams: Record<TokenName, RecordedStream>;
  /** JSON request with a token; the parsed body (null when empty) and the status. */
  call(token: string, method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  close(): Promise<void>;
}

export async function setupScopeWorld(): Promise<ScopeWorld> {
  const model = await startFakeModel();
  model.fallback = () => ({ text: ['scoped reply'] });
  const s = await startTestServer({ registrars: await productionRegistrars(), sweepMs: 100 });
  const p = (rel: string) => path.join(s.project, rel);
  for (const d of DIRS) fs.mkdirSync(p(d), { recursive: true });
  for (const f of Object.keys(FILES)) fs.writeFileSync(p(f), `${NEEDLE} ${f}\n`);
  // Inside `app`, a symlink to `secret`: a way out of the scope that must lead nowhere.
  fs.symlinkSync('../secret', p('app/out'));
  const elsewhere = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-scope-elsewhere-')));
  fs.writeFileSync(path.join(elsewhere, 'far.txt'), `${NEEDLE} far\n`);

  const token = {} as Record<TokenName, string>;
  const scopes = { admin: null } as Record<TokenName, string[] | null>;
  token.admin = (await s.token(['read', 'write', 'execute'], { name: 'admin' })).token;
  for (const name of SCOPED) {
    const list = name === 'outside' ? [elsewhere] : TOKENS[name].scopes.map(p);
    scopes[name] = list;
    const made = await createToken({ name, permissions: ['read', 'write', 'execute'], expiresAt: null, scopes: list }, s.env.tokenFile);
    token[name] = made.token;
  }

  const streams = {} as Record<TokenName, RecordedStream>;
  for (const name of Object.keys(token) as TokenName[]) streams[name] = openStream(s.url, '/event', { authorization: `Bearer ${token[name]}` });
  for (const name of Object.keys(token) as TokenName[]) {
    if (name === 'outside') await streams[name].waitFor((t) => /^403\n/.test(t), `${name} event stream refused`);
    else await streams[name].waitFor((t) => t.includes('server.connected'), `${name} event stream`);
  }

  const call: ScopeWorld['call'] = async (tok, method, pathname, body, headers = {}) => {
    const r = await s.fetch(pathname, {
      method,
      token: tok,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: r.status, body: parsed, text };
  };
  const must = async (method: string, pathname: string, body?: unknown) => {
    const r = await call(token.admin, method, pathname, body);
    if (r.status >= 300) throw new Error(`${method} ${pathname} -> ${r.status} ${r.text}`);
    return r.body;
  };

  await must('PATCH', '/config', { modelUrl: model.baseURL, model: 'test-model', apiKey: 'sk-test' });
  const pty = {} as Record<Dir, string>;
  const session = {} as Record<Dir, string>;
  for (const d of DIRS) {
    pty[d] = (await must('POST', '/pty', { command: 'sleep', args: ['600'], cwd: d, title: `pty ${d}` })).id;
    session[d] = (await must('POST', '/session', { directory: d, title: `session ${d}` })).id;
  }

  return {
    s,
    model,
    token,
    scopes,
    elsewhere,
    pty,
    session,
    streams,
    call,
    async close() {
      for (const st of Object.values(streams)) st.close();
      await s.close();
      await model.close();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    },
  };
}
