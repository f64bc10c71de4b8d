// The escalation matrix's file-system leg (DESIGN 3a): tether's own config and data directories are
// reserved, never readable, listable or searchable through the file API, even when the project
// contains them. That is the default for `cd ~ && tether serve` (the project is the working
// directory; ~/.config/tether and ~/.local/share/tether are inside it), and those directories hold
// the API key (config.json) and every prompt, reply and command output (the session database).
// A token with read (and write) but no execute must see none of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/token-admin.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { httpAttempt } from './escalation-http.js';
import { CANARY_PREFIX, canariesIn, makeCanaries } from './escalation-plan.js';

const XDG = ['XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'HOME'] as const;
const saved = Object.fromEntries(XDG.map((k) => [k, process.env[k]]));
const canaries = makeCanaries();
let home: string;
let server: RunningServer;
let admin: string;
const weak: Record<string, string> = {};

/** tether's own directories under the home that is also the project. */
const reserved = () => [path.join(home, '.config', 'tether'), path.join(home, '.local', 'share', 'tether'), path.join(home, '.local', 'state', 'tether')];

beforeAll(async () => {
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-escalation-home-')));
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = path.join(home, '.config');
  process.env.XDG_DATA_HOME = path.join(home, '.local', 'share');
  process.env.XDG_STATE_HOME = path.join(home, '.local', 'state');
  const tokenFile = path.join(home, '.config', 'tether', 'auth-tokens.json');
  const token = async (name: string, permissions: ('read' | 'write' | 'execute')[]) =>
    (await createToken({ name, permissions, expiresAt: null }, tokenFile)).token;
  admin = await token('admin', ['read', 'write', 'execute']);
  weak.r = await token('weak-r', ['read']);
  weak.rw = await token('weak-rw', ['read', 'write']);
  // As `serve` runs it: default token, settings and database locations, the working directory as project.
  server = await startServer({
    port: 0,
    hostname: '127.0.0.1',
    projectDir: home,
    auth: true,
    tokenFile,
    log: { log() {} },
    registrars: await productionRegistrars(),
  });
  fs.writeFileSync(path.join(home, 'notes.txt'), 'project notes\n');

  const call = async (method: string, p: string, body?: unknown) => {
    const o = await httpAttempt(server.url, method, p, { authorization: `Bearer ${admin}` }, body === undefined ? undefined : JSON.stringify(body));
    if (o.status >= 300) throw new Error(`${method} ${p} -> ${o.status}: ${o.body}`);
    return JSON.parse(o.body);
  };
  // Execute-only data that lands on disk: the API key, a shell command and its output, a title.
  await call('PATCH', '/config', { apiKey: canaries.apiKey, modelUrl: 'http://127.0.0.1:9/v1' });
  const session = await call('POST', '/session', { title: canaries.sessionTitle });
  const shell = await call('POST', `/session/${session.id}/shell`, { command: `echo ${canaries.shellCommand} | rev` });
  expect(JSON.stringify(shell)).toContain(canaries.shellOutput);
}, 30_000);

afterAll(async () => {
  await server?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** Every file and directory under tether's own directories, relative to the project. */
function reservedEntries(): { rel: string; dir: boolean }[] {
  const out: { rel: string; dir: boolean }[] = [];
  const walk = (abs: string) => {
    if (!fs.existsSync(abs)) return;
    const dir = fs.statSync(abs).isDirectory();
    out.push({ rel: path.relative(home, abs), dir });
    if (dir) for (const name of fs.readdirSync(abs)) walk(path.join(abs, name));
  };
  for (const d of reserved()) walk(d);
  return out;
}

describe("escalation matrix: tether's own directories inside the project", () => {
  it('the data is really there, on disk inside the project (the scenario is real)', () => {
    const entries = reservedEntries().map((e) => e.rel);
    expect(entries).toEqual(expect.arrayContaining(['.config/tether/config.json', '.local/share/tether/tether.db']));
    const onDisk = reservedEntries()
      .filter((e) => !e.dir)
      .map((e) => fs.readFileSync(path.join(home, e.rel)).toString('latin1'))
      .join('\n');
    expect(canariesIn(onDisk, canaries)).toEqual(expect.arrayContaining(['apiKey', 'shellOutput']));
  });

  for (const who of ['r', 'rw']) {
    it(`a ${who} token can neither read, list nor search them, and sees no execute-only data`, async () => {
      const failures: string[] = [];
      const probe = async (p: string, mustRefuse: boolean) => {
        const o = await httpAttempt(server.url, 'GET', p, { authorization: `Bearer ${weak[who]}` }, undefined);
        const leaked = canariesIn(o.text, canaries);
        if (leaked.length > 0) failures.push(`GET ${p} -> ${o.status} returned execute-only data: ${leaked.join(', ')}`);
        if (mustRefuse && o.status === 200) failures.push(`GET ${p} -> 200: ${o.body.slice(0, 160)}`);
        return o;
      };
      for (const e of reservedEntries()) {
        const q = encodeURIComponent(e.rel);
        await probe(e.dir ? `/file?path=${q}` : `/file/content?path=${q}`, true);
      }
      for (const p of [`/find?pattern=${CANARY_PREFIX}`, '/find?pattern=apiKey', '/find/file?query=tether']) {
        const o = await probe(p, false);
        const hits = o.status === 200 ? (JSON.parse(o.body).results as { path: string }[]).map((r) => r.path) : [];
        const inside = hits.filter((h) => reserved().some((d) => path.join(home, h).startsWith(d + path.sep) || path.join(home, h) === d));
        if (inside.length > 0) failures.push(`GET ${p} found reserved paths: ${inside.join(', ')}`);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe("escalation matrix: writing and deleting tether's own files through the file API", () => {
  /** Every reserved file's bytes, by path: they must not change, and none may appear or go. */
  // (The server itself records each token's last use in the token file: that field may change.)
  const bytes = (rel: string) =>
    fs
      .readFileSync(path.join(home, rel), 'latin1')
      .replace(/"lastUsedAt": "[^"]*"/g, '"lastUsedAt": null')
      // Last-use bookkeeping (time and address) is the server's own write, not the attacker's.
      .replace(/,\n\s*"lastUsedFrom": "[^"]*"/g, '');
  const snapshot = () => new Map(reservedEntries().map((e) => [e.rel, e.dir ? 'dir' : bytes(e.rel)]));

  it('a read+write token can neither replace, create (even with createParents) nor delete anything in them, however spelled', async () => {
    fs.symlinkSync(path.join(home, '.config', 'tether'), path.join(home, 'cfg-link'));
    const before = snapshot();
    const targets = new Set<string>();
    for (const e of reservedEntries()) {
      targets.add(e.rel);
      targets.add(e.rel.toUpperCase()); // a case-insensitive spelling
      targets.add(path.join(home, e.rel)); // absolute
      targets.add(`notes/../${e.rel}`);
      if (e.dir) targets.add(path.join(e.rel, 'new-file.txt'));
      if (e.dir) targets.add(path.join(e.rel, 'new-dir', 'deeper.txt'));
    }
    targets.add('cfg-link/auth-tokens.json');
    targets.add('cfg-link/config.json');
    targets.add('cfg-link/new.txt');
    const failures: string[] = [];
    const headers = { authorization: `Bearer ${weak.rw}`, 'content-type': 'application/json' };
    for (const t of targets) {
      const q = encodeURIComponent(t);
      const put = await httpAttempt(server.url, 'PUT', `/file/content?path=${q}`, headers, JSON.stringify({ content: 'pwned', createParents: true }));
      const del = await httpAttempt(server.url, 'DELETE', `/file?path=${q}`, headers, undefined);
      for (const [what, o] of [
        ['PUT', put],
        ['DELETE', del],
      ] as const) {
        // Reserved (403), whatever the spelling (a case-varied one is refused by name too).
        const fine = o.status === 403 && /path_reserved/.test(o.body);
        if (!fine) failures.push(`${what} ${t} -> ${o.status} ${o.body.slice(0, 160)}`);
        if (canariesIn(o.text, canaries).length > 0) failures.push(`${what} ${t} returned execute-only data`);
      }
    }
    expect(failures).toEqual([]);
    expect(snapshot()).toEqual(before);
    expect(fs.readdirSync(home).filter((n) => n !== 'notes.txt' && !n.startsWith('.') && n !== 'cfg-link')).toEqual([]);
  });
});
