// Start-up reaping of what a dead server left running: only verifiably its processes, never a
// recycled pid's, never a live server's.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reapOrphans } from '../../src/proc/reap.js';
import { registryDir } from '../../src/proc/registry.js';
import { deadServer, isAlive, killSpawned, liveServer, randomInstance, startSession, tempData, waitFor, writeRegistry } from './helpers.js';

let data: ReturnType<typeof tempData>;
beforeEach(() => {
  data = tempData();
});
afterEach(() => {
  killSpawned();
  data.cleanup();
});

const BG = (cmd: string) => `${cmd} >/dev/null 2>&1 & echo $!`;

describe('reapOrphans', () => {
  it("kills every process of a dead server's sessions, leader and background jobs, and removes its file", async () => {
    const server = deadServer();
    const a = startSession(BG('sleep 300'), server.instance, 'exec sleep 301');
    const b = startSession(`${BG('sleep 302')}; ${BG('sleep 303')}`, server.instance, 'wait');
    const members = [...(await a.printed), ...(await b.printed)];
    const file = writeRegistry(data.dir, server, [
      { sid: a.sid, startTime: a.startTime, kind: 'terminal' },
      { sid: b.sid, startTime: b.startTime, kind: 'command' },
    ]);
    const all = [a.sid, b.sid, ...members];
    expect(all.every(isAlive)).toBe(true);

    const report = await reapOrphans(data.dir);
    expect(report.files).toEqual([file]);
    expect(new Set(report.signalled)).toEqual(new Set(all));
    expect(report.remaining).toEqual([]);
    for (const pid of all) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('escalates to SIGKILL after the grace period for processes that ignore SIGHUP', async () => {
    const server = deadServer();
    const s = startSession(`trap '' HUP; ${BG('sleep 300')}`, server.instance, 'wait');
    const [job] = await s.printed;
    writeRegistry(data.dir, server, [{ sid: s.sid, startTime: s.startTime, kind: 'command' }]);
    const t0 = Date.now();
    const report = await reapOrphans(data.dir, { graceMs: 200 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(new Set(report.killed)).toEqual(new Set([s.sid, job]));
    expect(isAlive(s.sid) || isAlive(job)).toBe(false);
  });

  it("never signals a recycled pid: a live process with the leader's pid but another start time", async () => {
    const server = deadServer();
    const s = startSession(BG('sleep 300'), server.instance, 'wait');
    const [job] = await s.printed;
    const file = writeRegistry(data.dir, server, [{ sid: s.sid, startTime: s.startTime - 1, kind: 'terminal' }]);
    const report = await reapOrphans(data.dir, { graceMs: 100 });
    expect(report).toMatchObject({ signalled: [], recycled: 1 });
    expect(isAlive(s.sid) && isAlive(job)).toBe(true);
    expect(fs.existsSync(file)).toBe(false); // the dead server's file is done with
  });

  it("with the leader gone, kills only members started with the dead server's instance marker", async () => {
    const server = deadServer();
    // Leaders that exit at once, leaving a job in their session.
    const ours = startSession(BG('sleep 300'), server.instance);
    const foreign = startSession(BG('sleep 301'), randomInstance());
    const unmarked = startSession(BG('sleep 302'), null);
    const [ourJob] = await ours.printed;
    const [foreignJob] = await foreign.printed;
    const [unmarkedJob] = await unmarked.printed;
    await waitFor(() => ![ours.sid, foreign.sid, unmarked.sid].some(isAlive), { what: 'the leaders to exit' });
    writeRegistry(
      data.dir,
      server,
      [ours, foreign, unmarked].map((s) => ({ sid: s.sid, startTime: s.startTime, kind: 'terminal' as const })),
    );
    const report = await reapOrphans(data.dir, { graceMs: 100 });
    expect(report.signalled).toEqual([ourJob]);
    expect(isAlive(ourJob)).toBe(false);
    expect(isAlive(foreignJob) && isAlive(unmarkedJob)).toBe(true);
  });

  it('a forged record cannot make it signal a session that no tether server started', async () => {
    // Pid and start time of any process are public in /proc; the instance marker is what it lacks.
    const server = deadServer();
    const victim = startSession(BG('sleep 300'), null, 'wait');
    const [job] = await victim.printed;
    writeRegistry(data.dir, server, [{ sid: victim.sid, startTime: victim.startTime, kind: 'terminal' }]);
    const report = await reapOrphans(data.dir, { graceMs: 100 });
    expect(report.signalled).toEqual([]);
    expect(isAlive(victim.sid) && isAlive(job)).toBe(true);
  });

  it("leaves a running server's sessions and file alone (two servers, one data directory)", async () => {
    const server = liveServer();
    const s = startSession('', server.instance, 'exec sleep 300');
    const file = writeRegistry(data.dir, server, [{ sid: s.sid, startTime: s.startTime, kind: 'command' }]);
    const report = await reapOrphans(data.dir);
    expect(report).toMatchObject({ files: [], signalled: [], liveServers: 1 });
    expect(isAlive(s.sid)).toBe(true);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('treats a file from another boot as finished: removed, nothing signalled', async () => {
    const server = { ...deadServer(), bootId: 'another-boot' };
    const s = startSession('', server.instance, 'exec sleep 300');
    const file = writeRegistry(data.dir, server, [{ sid: s.sid, startTime: s.startTime, kind: 'command' }]);
    const report = await reapOrphans(data.dir);
    expect(report).toMatchObject({ files: [file], signalled: [] });
    expect(isAlive(s.sid)).toBe(true);
  });

  it('removes invalid files with a warning and signals nothing on their word', async () => {
    const s = startSession('', randomInstance(), 'exec sleep 300');
    const dir = registryDir(data.dir);
    fs.mkdirSync(dir, { recursive: true });
    const bad = {
      'garbage.json': '{"version":1, "groups": [',
      'wrong-version.json': JSON.stringify({ version: 2, groups: [{ sid: s.sid }] }),
      'negative-sid.json': JSON.stringify({ ...deadServer(), version: 1, bootId: 'x', groups: [{ sid: -1, startTime: 0, kind: 'command' }] }),
      'huge.json': `{"version":1,"pad":"${'x'.repeat(1_000_000)}"}`,
      'too-many.json': JSON.stringify({
        ...deadServer(),
        version: 1,
        bootId: 'x',
        groups: Array.from({ length: 100_001 }, (_, i) => ({ sid: i + 1, startTime: 0, kind: 'command' })),
      }),
    };
    for (const [name, text] of Object.entries(bad)) fs.writeFileSync(path.join(dir, name), text);
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not ours to judge');
    const warnings: string[] = [];
    const report = await reapOrphans(data.dir, { warn: (event, f) => warnings.push(`${event} ${String(f.file)}`) });
    expect(report.signalled).toEqual([]);
    expect(report.files).toHaveLength(5);
    expect(warnings.filter((w) => w.startsWith('proc.registry_invalid'))).toHaveLength(5);
    expect(fs.readdirSync(dir)).toEqual(['notes.txt']);
    expect(isAlive(s.sid)).toBe(true);
  });

  it('removes temp files left by a writer that died, keeps those of live ones', async () => {
    const dir = registryDir(data.dir);
    fs.mkdirSync(dir, { recursive: true });
    const s = startSession('', null, 'exec sleep 300');
    const exited = startSession('', null, 'exit 0');
    await waitFor(() => !isAlive(exited.sid), { what: 'the writer to exit' });
    fs.writeFileSync(path.join(dir, `x.json.tmp-${exited.sid}-abcd`), '{');
    fs.writeFileSync(path.join(dir, `y.json.tmp-${s.sid}-abcd`), '{');
    await reapOrphans(data.dir);
    expect(fs.readdirSync(dir)).toEqual([`y.json.tmp-${s.sid}-abcd`]);
  });

  it('copes with a missing directory and with two servers reaping the same files at once', async () => {
    expect(await reapOrphans(path.join(data.dir, 'nope'))).toMatchObject({ files: [], signalled: [] });
    const server = deadServer();
    const s = startSession(BG('sleep 300'), server.instance, 'wait');
    const [job] = await s.printed;
    writeRegistry(data.dir, server, [{ sid: s.sid, startTime: s.startTime, kind: 'command' }]);
    const [r1, r2] = await Promise.all([reapOrphans(data.dir), reapOrphans(data.dir)]);
    expect(new Set([...r1.signalled, ...r2.signalled])).toEqual(new Set([s.sid, job]));
    expect(isAlive(s.sid) || isAlive(job)).toBe(false);
    expect(fs.readdirSync(registryDir(data.dir))).toEqual([]);
  });
});
