import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReservedPaths, reservedDirsInside, reservedPaths, reservedWarning } from '../../src/fs/reserved.js';

let tmp: string;
const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, XDG_DATA_HOME: process.env.XDG_DATA_HOME, XDG_STATE_HOME: process.env.XDG_STATE_HOME };

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tether-reserved-')));
  process.env.XDG_CONFIG_HOME = path.join(tmp, 'home', '.config');
  process.env.XDG_DATA_HOME = path.join(tmp, 'home', '.local', 'share');
  process.env.XDG_STATE_HOME = path.join(tmp, 'home', '.local', 'state');
  fs.mkdirSync(path.join(tmp, 'home', '.config', 'tether'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'home', '.local', 'share', 'tether'), { recursive: true });
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ReservedPaths', () => {
  it('matches a reserved directory and everything inside it, and nothing beside it', async () => {
    const r = reservedPaths(path.join(tmp, 'home'));
    const cfg = path.join(tmp, 'home', '.config', 'tether');
    for (const p of [cfg, path.join(cfg, 'auth-tokens.json'), path.join(cfg, 'deep', 'x')]) {
      expect(r.matchesName(p), p).toBe(true);
      expect(await r.isReserved(p), p).toBe(true);
    }
    for (const p of [path.join(tmp, 'home', '.config'), path.join(tmp, 'home', '.config', 'tether-other'), path.join(tmp, 'home', '.bash_history')]) {
      expect(r.matchesName(p), p).toBe(false);
      expect(await r.isReserved(p), p).toBe(false);
    }
  });

  it('matches other case and Unicode normalisation (what a case-insensitive mount hands back)', () => {
    const r = reservedPaths(path.join(tmp, 'home'));
    expect(r.matchesName(path.join(tmp, 'home', '.config', 'TETHER', 'credentials.json'))).toBe(true);
    expect(r.matchesName(path.join(tmp, 'home', '.CONFIG', 'Tether'))).toBe(true);
    const nfd = new ReservedPaths([{ dir: path.join(tmp, 'caf\u00e9') }]);
    expect(nfd.matchesName(path.join(tmp, 'cafe\u0301', 'x'))).toBe(true);
  });

  it('matches by device and inode a spelling that shares no name with it (an alias)', async () => {
    const r = reservedPaths(path.join(tmp, 'home'));
    const cfg = path.join(tmp, 'home', '.config', 'tether');
    // /proc/self/root/<path> is the same directory under a different name, like a bind mount.
    const alias = path.join('/proc/self/root', cfg, 'credentials.json');
    expect(r.matchesName(alias)).toBe(false);
    expect(await r.isReserved(alias)).toBe(true);
    const st = fs.statSync(cfg);
    expect(r.isReservedDir(st)).toBe(true);
    expect(r.isReservedDir(fs.statSync(tmp))).toBe(false);
  });

  it('reserves a directory that does not exist yet by name (the state directory)', async () => {
    const r = reservedPaths(path.join(tmp, 'home'));
    expect(await r.isReserved(path.join(tmp, 'home', '.local', 'state', 'tether', 'audit.log'))).toBe(true);
  });

  it('a configured file in or above the project reserves only itself and its companions', async () => {
    const project = path.join(tmp, 'p');
    fs.mkdirSync(project);
    const r = reservedPaths(project, [path.join(project, 'tokens.json'), path.join(tmp, 'elsewhere', 'config.json')]);
    for (const n of ['tokens.json', 'tokens.json.lock', 'tokens.json.tmp-1-ab', 'TOKENS.JSON']) expect(await r.isReserved(path.join(project, n)), n).toBe(true);
    for (const n of ['src', 'README.md', '']) expect(await r.isReserved(path.join(project, n)), n).toBe(false);
    // By identity too: the project directory under another name.
    expect(await r.isReserved(path.join('/proc/self/root', project, 'tokens.json'))).toBe(true);
    expect(await r.isReserved(path.join('/proc/self/root', project, 'README.md'))).toBe(false);
    // A file configured elsewhere reserves its whole directory.
    expect(await r.isReserved(path.join(tmp, 'elsewhere', 'anything'))).toBe(true);
  });
});

describe('reservedDirsInside and the serve warning', () => {
  it('names the reserved directories inside the project, existing or not', () => {
    const home = path.join(tmp, 'home');
    expect(reservedDirsInside(home).sort()).toEqual(
      [path.join(home, '.config', 'tether'), path.join(home, '.local', 'share', 'tether'), path.join(home, '.local', 'state', 'tether')].sort(),
    );
    expect(reservedWarning(home)).toMatch(/project contains tether's own files .*\.config\/tether.*path_reserved/);
  });

  it('is empty for a project that holds none of them', () => {
    const project = path.join(tmp, 'project');
    fs.mkdirSync(project);
    expect(reservedDirsInside(project)).toEqual([]);
    expect(reservedWarning(project)).toBeNull();
  });
});
