// Whole-process: a `tether serve` that is SIGKILLed leaves its terminals' and commands' processes
// running; the next server on the same data directory ends them. A server that still runs keeps
// its own, even when another one starts on the same data directory.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStat } from '../../src/proc/procfs.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { isAlive } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';
import { connect, ready, type TermClient } from '../pty-routes/helpers.js';

let t: TempEnv;
let project: string;
let model: FakeModel;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];
const sockets: TermClient[] = [];
/** Every pid a test expects to end: SIGKILLed afterwards whatever happened, so nothing leaks. */
const watched = new Set<number>();
let token = '';

beforeEach(async () => {
  token = '';
  t = tempEnv();
  project = path.join(t.root, 'project');
  fs.mkdirSync(project);
  model = await startFakeModel();
  env = { ...t.env, TETHER_MODEL_URL: model.baseURL, TETHER_MODEL: 'fake', TETHER_MODEL_API_KEY: 'sk-e2e-secret' };
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.ws.terminate();
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of watched) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  watched.clear();
  await model.close();
  t.cleanup();
});

interface Served {
  child: ChildProcess;
  url: string;
  err: () => string;
  exited: Promise<void>;
}

async function serve(): Promise<Served> {
  const child = spawnCli(['serve', '--port', '0', '--project', project], env);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // `listening` is printed after start-up, reaping included.
  const url = await waitFor(() => /listening on (\S+)/.exec(out)?.[1], { timeout: 20_000, what: `serve to listen (stderr: ${err})` });
  return { child, url, err: () => err, exited };
}

async function api(s: Served, method: string, p: string, body?: unknown): Promise<any> {
  token ||= JSON.parse((await runCli(['auth', 'token', 'create', '--json', '--permissions', 'all'], t.env)).stdout).token;
  const res = await fetch(`${s.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

/** The pid a command wrote to `name` in the project. */
async function pidFile(name: string): Promise<number> {
  const file = path.join(project, name);
  const pid = await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').endsWith('\n') && Number(fs.readFileSync(file, 'utf8')), {
    what: name,
  });
  watched.add(pid);
  return pid;
}

/** A terminal whose shell and job ignore SIGHUP: both outlive the server's death unless reaped. */
async function hupProofTerminal(s: Served, tag: string): Promise<number[]> {
  const info = await api(s, 'POST', '/pty', {
    command: 'bash',
    args: ['--norc', '--noprofile', '-c', `trap "" HUP; sleep 1000 & echo $! > ${tag}-pty.pid; wait`],
  });
  watched.add(info.pid);
  return [info.pid, await pidFile(`${tag}-pty.pid`)];
}

/** Processes of every kind the server starts; returns those that must end, leaders included. */
async function startEverything(s: Served): Promise<number[]> {
  const pids = await hupProofTerminal(s, 'a');
  // An interactive shell: a plain job (dies with the shell's hangup) and a nohup'd one (does not).
  const term = await api(s, 'POST', '/pty', { command: 'bash', args: ['--norc', '--noprofile', '-i'], env: { PS1: '$ ', HISTFILE: '/dev/null' } });
  watched.add(term.pid);
  const ws = await connect(`${s.url.replace(/^http/, 'ws')}/pty/${term.id}/connect`, { token });
  sockets.push(ws);
  await ready(ws);
  ws.type('sleep 1001 & echo BG=$!\r');
  ws.type('nohup sleep 1002 >/dev/null 2>&1 & echo NH=$!\r');
  const text = await ws.waitText(/NH=\d+/);
  pids.push(term.pid, Number(/BG=(\d+)/.exec(text)![1]), Number(/NH=(\d+)/.exec(text)![1]));
  // A session shell command and an agent's run_command, both still running.
  const s1 = await api(s, 'POST', '/session', {});
  void api(s, 'POST', `/session/${s1.id}/shell`, { command: 'sleep 1003 & echo $! > shell.pid; wait', timeoutMs: 3_600_000 }).catch(() => {});
  const s2 = await api(s, 'POST', '/session', {});
  model.reply({ toolCalls: [{ name: 'run_command', args: { command: 'sleep 1004 & echo $! > agent.pid; wait' } }] });
  void api(s, 'POST', `/session/${s2.id}/message`, { text: 'go' }).catch(() => {});
  for (const job of [await pidFile('shell.pid'), await pidFile('agent.pid')]) {
    const leader = readStat(job)!.session; // the runner's shell: its session leader
    watched.add(leader);
    pids.push(job, leader);
  }
  for (const pid of pids) watched.add(pid);
  return pids;
}

const registryFiles = () => {
  const dir = path.join(t.dataHome, 'tether', 'procs');
  // Only the files themselves, not a write in flight (`<file>.tmp-<pid>-<hex>`).
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => path.join(dir, f))
    : [];
};

describe('orphaned processes of a killed server', () => {
  it('after SIGKILL of the server, the next server on the same data directory ends every one of them', async () => {
    const first = await serve();
    const pids = await startEverything(first);
    expect(pids.every(isAlive)).toBe(true);
    // Written in the background, coalesced: two terminals, one shell command, one agent command.
    const file = await waitFor(() => registryFiles().find((f) => JSON.parse(fs.readFileSync(f, 'utf8')).groups.length === 4), {
      what: 'the registry to list four sessions',
    });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    first.child.kill('SIGKILL');
    await first.exited;
    // Orphans now: the server is gone, they are not (the interactive shell's plain job may have
    // died of the hangup; the rest ignore it or never got it).
    const orphans = pids.filter(isAlive);
    expect(orphans.length).toBeGreaterThanOrEqual(6);

    const second = await serve();
    for (const pid of pids) await waitFor(() => !isAlive(pid), { timeout: 10_000, what: `pid ${pid} to be reaped` });
    expect(second.err()).toMatch(/"event":"proc\.reaped"/);
    expect(fs.existsSync(file)).toBe(false);
    second.child.kill('SIGTERM');
    await second.exited;
    expect(registryFiles()).toEqual([]); // a clean shutdown leaves no file
  });

  it('a server that still runs keeps its processes when another one starts on the same data directory', async () => {
    const a = await serve();
    const aPids = await hupProofTerminal(a, 'a');
    const b = await serve(); // reaps at start-up: must not touch a's
    const bPids = await hupProofTerminal(b, 'b');
    expect([...aPids, ...bPids].every(isAlive)).toBe(true);
    await waitFor(() => registryFiles().length === 2, { what: 'both servers to record their terminal' });

    a.child.kill('SIGKILL');
    await a.exited;
    expect(aPids.every(isAlive)).toBe(true);
    const c = await serve();
    for (const pid of aPids) await waitFor(() => !isAlive(pid), { timeout: 10_000, what: `a's pid ${pid} to be reaped` });
    expect(bPids.every(isAlive)).toBe(true);
    for (const s of [b, c]) s.child.kill('SIGTERM');
    await Promise.all([b.exited, c.exited]);
    for (const pid of bPids) await waitFor(() => !isAlive(pid), { what: `b's pid ${pid} to end with b` });
  });

  it("terminals and commands do not see the server's TETHER_MODEL_API_KEY", async () => {
    const s = await serve();
    await api(s, 'POST', '/pty', { command: 'bash', args: ['--norc', '--noprofile', '-c', 'env > term-env.txt; echo done >> term-env.txt'] });
    await waitFor(() => fs.existsSync(path.join(project, 'term-env.txt')) && fs.readFileSync(path.join(project, 'term-env.txt'), 'utf8').includes('done'), {
      what: 'the terminal to write its environment',
    });
    const session = await api(s, 'POST', '/session', {});
    const shell = await api(s, 'POST', `/session/${session.id}/shell`, { command: 'env' });
    model.reply({ toolCalls: [{ name: 'run_command', args: { command: 'env' } }] }, { text: ['ok'] });
    const agent = await api(s, 'POST', `/session/${session.id}/message`, { text: 'env please' });
    const agentOutput = JSON.stringify(agent.parts.find((p: any) => p.type === 'tool_result').data.output);
    for (const text of [fs.readFileSync(path.join(project, 'term-env.txt'), 'utf8'), shell.parts[0].data.stdout, agentOutput]) {
      expect(text).toContain('PATH=');
      expect(text).not.toContain('sk-e2e-secret');
      expect(text).not.toMatch(/TETHER_MODEL/);
    }
    s.child.kill('SIGTERM');
    await s.exited;
  });
});
