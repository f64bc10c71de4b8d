// tether's own files when the project contains them (`--project ~`): a read token must not read,
// list or find the token file, the saved credentials, the settings, the sessions database (with its
// WAL/SHM) or the state directory, however the path is spelled.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRoutes } from '../../src/server/routes/session.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { startTestServer, type LogLine, type TestServer } from '../helpers/server.js';

let s: TestServer;
let home: RunningServer;
let homeDir: string;
let readToken: string;
const logs: LogLine[] = [];
const SESSION_TITLE = 'tether_title_in_the_db';
const STATE_SECRET = 'tether_state_secret';

beforeAll(async () => {
  s = await startTestServer();
  homeDir = fs.realpathSync(s.env.root); // HOME, with XDG config/data inside and the default state dir
  // A second server whose project is the whole home directory, on the same tether directories.
  home = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    projectDir: homeDir,
    auth: true,
    tokenFile: s.env.tokenFile,
    settingsFile: path.join(s.env.configHome, 'tether', 'config.json'),
    log: { log: (level, event, fields = {}) => logs.push({ level, event, ...fields }) },
    registrars: [sessionRoutes({})],
  });
  readToken = (await s.token(['read'])).token;
  const full = (await s.token(['read', 'write', 'execute'])).token;
  const cfg = path.join(s.env.configHome, 'tether');
  // What `tether auth login` saves: a full token.
  fs.writeFileSync(path.join(cfg, 'credentials.json'), JSON.stringify({ version: 1, servers: { [home.url]: { token: full } } }), { mode: 0o600 });
  fs.writeFileSync(path.join(cfg, 'config.json'), '{"apiKey":"tether_api_key_in_config"}');
  // A session makes the database and its WAL, with a recognisable string in them.
  const r = await fetch(`${home.url}/session`, {
    method: 'POST',
    headers: { authorization: `Bearer ${full}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: SESSION_TITLE }),
  });
  expect(r.status).toBe(201);
  const state = path.join(homeDir, '.local', 'state', 'tether');
  fs.mkdirSync(state, { recursive: true });
  fs.writeFileSync(path.join(state, 'audit.log'), `${STATE_SECRET}\n`);
  // Decoys that must still be found, and links into the reserved directories.
  fs.mkdirSync(path.join(homeDir, 'notes'));
  fs.writeFileSync(path.join(homeDir, 'notes', 'tether-notes.md'), 'about tether_ tokens\n');
  fs.symlinkSync(cfg, path.join(homeDir, 'cfg-link'));
  fs.symlinkSync(path.join(cfg, 'credentials.json'), path.join(homeDir, 'notes', 'cred-link'));
  fs.symlinkSync('../data/tether', path.join(homeDir, 'notes', 'data-link'));
});
afterAll(async () => {
  await home?.close();
  await s?.close();
});

const get = async (url: string) => {
  const r = await fetch(home.url + url, { headers: { authorization: `Bearer ${readToken}` } });
  const text = await r.text();
  return { status: r.status, text, body: JSON.parse(text) };
};

/** Nothing of tether's own files in a response. */
function expectNoSecrets(text: string) {
  expect(text).not.toMatch(/tether_[A-Za-z0-9]{28}/); // a token
  expect(text).not.toContain('tether_api_key_in_config');
  expect(text).not.toContain(SESSION_TITLE);
  expect(text).not.toContain(STATE_SECRET);
  expect(text).not.toMatch(/"hash"/);
}

describe('reserved paths in a project that contains them', () => {
  it('the setup really has the files in the project', () => {
    for (const f of ['config/tether/auth-tokens.json', 'config/tether/credentials.json', 'data/tether/tether.db', 'data/tether/tether.db-wal']) {
      expect(fs.existsSync(path.join(homeDir, f)), f).toBe(true);
    }
  });

  it('GET /find never searches them; other files still are', async () => {
    const r = await get('/find?pattern=tether_');
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { path: string }) => x.path)).toEqual(['notes/tether-notes.md']);
    expectNoSecrets(r.text);
    for (const pattern of [SESSION_TITLE, STATE_SECRET, 'version', '"hash"']) {
      const q = await get(`/find?pattern=${encodeURIComponent(pattern)}&limit=1000`);
      for (const hit of q.body.results as { path: string }[]) expect(hit.path).not.toMatch(/(^|\/)tether\//);
      expectNoSecrets(q.text);
    }
  });

  it('GET /find/file never names them', async () => {
    const r = await get('/find/file?query=tether&limit=1000');
    expect(r.body.results).toEqual([{ path: 'notes/tether-notes.md', type: 'file' }]);
    for (const q of ['credentials', 'auth-tokens', 'tether.db', 'audit', 'config.json']) {
      expect((await get(`/find/file?query=${q}`)).body.results, q).toEqual([]);
    }
  });

  const reservedFiles = [
    'config/tether/auth-tokens.json',
    'config/tether/auth-tokens.json.lock',
    'config/tether/credentials.json',
    'config/tether/config.json',
    'data/tether/tether.db',
    'data/tether/tether.db-wal',
    'data/tether/tether.db-shm',
    '.local/state/tether/audit.log',
  ];
  it.each(reservedFiles)('GET /file/content?path=%s is 403 path_reserved', async (f) => {
    if (!fs.existsSync(path.join(homeDir, f))) fs.writeFileSync(path.join(homeDir, f), 'x'); // e.g. the lock, made on demand
    const r = await get(`/file/content?path=${encodeURIComponent(f)}`);
    expect([r.status, r.body.error.code]).toEqual([403, 'path_reserved']);
    expectNoSecrets(r.text);
  });

  const spellings = [
    ['absolute', () => path.join(homeDir, 'config/tether/credentials.json')],
    ['through ..', () => 'notes/../config/tether/credentials.json'],
    ['with ./ and //', () => './config//tether/./credentials.json'],
    ['through a symlink to the directory', () => 'cfg-link/credentials.json'],
    ['through a symlink to the file', () => 'notes/cred-link'],
    ['through a relative symlink', () => 'notes/data-link/tether.db'],
  ] as const;
  it.each(spellings)('a reserved file reached %s is 403 path_reserved', async (_name, p) => {
    const r = await get(`/file/content?path=${encodeURIComponent(p())}`);
    expect([r.status, r.body.error.code]).toEqual([403, 'path_reserved']);
    expectNoSecrets(r.text);
  });

  it('percent-encoded and case-varied spellings never return the content', async () => {
    const variants = [
      'config%2Ftether%2Fcredentials.json',
      'config/%74ether/credentials.json',
      'config%252Ftether%252Fcredentials.json',
      'config/TETHER/credentials.json',
      'CONFIG/tether/credentials.json',
      'config/Tether/credentials.json',
    ];
    for (const v of variants) {
      const r = await get(`/file/content?path=${v}`);
      // 403 where it names the file; on this case-sensitive file system a different case names nothing (404).
      expect([403, 404], v).toContain(r.status);
      if (r.status === 403) expect(r.body.error.code).toBe('path_reserved');
      expectNoSecrets(r.text);
    }
  });

  it('the directories themselves are 403 path_reserved, and listings skip them silently', async () => {
    for (const d of ['config/tether', 'data/tether', '.local/state/tether', 'cfg-link', 'notes/data-link']) {
      for (const route of ['/file', '/file/content']) {
        const r = await get(`${route}?path=${encodeURIComponent(d)}`);
        expect([route, d, r.status, r.body.error.code]).toEqual([route, d, 403, 'path_reserved']);
      }
    }
    const names = async (d: string) => (await get(`/file?path=${encodeURIComponent(d)}`)).body.entries.map((e: { name: string }) => e.name);
    expect(await names('config')).toEqual([]);
    expect(await names('data')).toEqual([]);
    expect(await names('.local/state')).toEqual([]);
    // Symlinks are listed as symlinks (never followed); what they point to stays refused.
    expect(await names('.')).toEqual(expect.arrayContaining(['config', 'data', 'notes', 'cfg-link']));
  });

  it('no request reached a 500', () => {
    expect(logs.filter((l) => l.event === 'request.crash' || l.event === 'request.error')).toEqual([]);
  });
});
