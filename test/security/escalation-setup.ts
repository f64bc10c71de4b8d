// The world the escalation matrix runs in: a server with every production route, two scripted
// models (the configured one and an attacker's), tokens, and execute-only data full of canaries
// produced with a token that holds everything: terminal output, a shell command and its output,
// an agent prompt, a tool call, its result and the reply, titles, the API key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Permission } from '../../src/auth/permissions.js';
import { productionRegistrars } from '../../src/server/routes/index.js';
import { startFakeModel, type FakeModel, type RecordedRequest, type ScriptedReply } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bash, connect, ready } from '../pty-routes/helpers.js';
import { openStream, type RecordedStream } from './escalation-http.js';
import { makeCanaries, marker, type CanaryName, type Fixture } from './escalation-plan.js';
import { processWatch, type ProcessWatch } from './escalation-procs.js';

export type Cred = 'none' | 'bearer' | 'basic' | 'cookie' | 'protocol';

export interface Caller {
  label: string;
  token?: string;
  permissions: Permission[];
  cred: Cred;
  /** Web login (cookie callers), made fresh before each batch. */
  login?: { id: string; key: string };
}

export const WEAK: Record<string, Permission[]> = { r: ['read'], w: ['write'], rw: ['read', 'write'] };

export interface World {
  s: TestServer;
  admin: string;
  weak: Record<string, string>;
  model: FakeModel;
  attacker: FakeModel;
  canaries: Record<CanaryName, string>;
  fixture: Fixture;
  /** The server's settings file (GET /config never shows the API key; this does). */
  settingsFile: string;
  watch: ProcessWatch;
  envMarker: string;
  adminStream: RecordedStream;
  /** `GET /event` held open by each weak caller from before the canaries exist to the end. */
  weakStreams: { caller: Caller; stream: RecordedStream }[];
  close(): Promise<void>;
}

/** A model that calls run_command once, then answers. */
function scripted(command: string, reply: string): (r: RecordedRequest) => ScriptedReply {
  return (r) => (r.body?.messages?.at(-1)?.role === 'tool' ? { text: [reply] } : { toolCalls: [{ name: 'run_command', args: { command } }] });
}

/** Request headers presenting a caller's credential on plain HTTP. */
export function httpHeaders(c: Caller, origin: string): Record<string, string> {
  switch (c.cred) {
    case 'bearer':
      return { authorization: `Bearer ${c.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`x:${c.token}`).toString('base64')}` };
    case 'cookie':
      return { cookie: `tether_session=${c.login!.id}`, 'x-tether-session': c.login!.key, origin };
    default:
      return {};
  }
}

/** Headers and subprotocols presenting a caller's credential on a WebSocket upgrade. */
export function wsCredentials(c: Caller, origin: string): { headers: Record<string, string>; protocols: string[] } {
  if (c.cred === 'protocol') return { headers: {}, protocols: ['tether', `tether.auth.${c.token}`] };
  if (c.cred === 'cookie') return { headers: { cookie: `tether_session=${c.login!.id}`, origin }, protocols: ['tether', `tether.session.${c.login!.key}`] };
  return { headers: httpHeaders(c, origin), protocols: ['tether'] };
}

export async function webLogin(s: TestServer, token: string): Promise<{ id: string; key: string }> {
  const r = await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  if (r.status !== 200) throw new Error(`POST /auth/session: ${r.status} ${await r.text()}`);
  const id = /tether_session=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')![1];
  return { id, key: ((await r.json()) as { sessionKey: string }).sessionKey };
}

async function call(s: TestServer, token: string, method: string, p: string, body?: unknown): Promise<any> {
  const r = await s.fetch(p, { method, token, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${p} -> ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function setupWorld(): Promise<World> {
  const canaries = makeCanaries();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-escalation-'));
  const markerDir = path.join(root, 'markers');
  fs.mkdirSync(markerDir);
  // Every process the server starts inherits this (pty and shell environments are built from ours).
  const envName = 'ESCALATION_MATRIX_MARK';
  const envMarker = `${envName}=${randomBytes(8).toString('hex')}`;
  process.env[envName] = envMarker.split('=')[1];

  const model = await startFakeModel();
  const attacker = await startFakeModel();
  const s = await startTestServer({ registrars: await productionRegistrars(), sweepMs: 100 });
  const fixture: Fixture = {
    ptyId: '',
    sessionId: '',
    markerDir,
    evilShell: path.join(root, 'evil-shell'),
    attackerModelUrl: attacker.baseURL,
    pairingId: '',
    pairCodes: {},
  };
  fs.writeFileSync(fixture.evilShell, `#!/bin/sh\ntouch ${marker(fixture, 'evil-shell')}\nexec /bin/sh "$@"\n`, { mode: 0o755 });
  model.fallback = scripted(`echo ${canaries.toolInput} | rev`, canaries.reply);
  attacker.fallback = scripted(`touch ${marker(fixture, 'agent')}`, 'attacker reply');
  fs.writeFileSync(path.join(s.project, 'notes.txt'), 'project notes: nothing secret here\n');

  const admin = (await s.token(['read', 'write', 'execute'], { name: 'admin' })).token;
  const weak: Record<string, string> = {};
  for (const [k, perms] of Object.entries(WEAK)) weak[k] = (await s.token(perms, { name: `weak-${k}` })).token;

  // Pairing codes: one to watch and cancel (its id), one the admin's self-test redeems.
  fixture.pairingId = (await call(s, admin, 'POST', '/auth/pair/code', {})).id;
  fixture.pairCodes[admin] = (await call(s, admin, 'POST', '/auth/pair/code', {})).code;

  // Streams first, so that every event the canaries cause passes them.
  const connected = (t: string) => t.includes('server.connected');
  const adminStream = openStream(s.url, '/event', { authorization: `Bearer ${admin}` });
  const weakStreams: World['weakStreams'] = [];
  for (const [k, perms] of Object.entries(WEAK)) {
    for (const cred of ['bearer', 'cookie'] as const) {
      const caller: Caller = { label: `${k}/${cred}`, token: weak[k], permissions: perms, cred };
      if (cred === 'cookie') caller.login = await webLogin(s, weak[k]);
      weakStreams.push({ caller, stream: openStream(s.url, '/event', httpHeaders(caller, s.url)) });
    }
  }
  await adminStream.waitFor(connected, 'the admin event stream');
  for (const { caller, stream } of weakStreams) {
    await stream.waitFor((t) => (caller.permissions.includes('read') ? connected(t) : /^403\n/.test(t)), `${caller.label} event stream`);
  }

  // Settings: the provider, with a key that no response may ever show.
  await call(s, admin, 'PATCH', '/config', { modelUrl: model.baseURL, model: 'test-model', apiKey: canaries.apiKey });

  // A terminal with output in its scrollback.
  const pty = await call(s, admin, 'POST', '/pty', bash({ title: canaries.ptyTitle }));
  fixture.ptyId = pty.id;
  const term = await connect(`${s.url.replace(/^http/, 'ws')}/pty/${pty.id}/connect`, { token: admin });
  await ready(term);
  term.type(`echo ${canaries.ptyInput} | rev\r`);
  await term.waitText(canaries.ptyOutput);
  term.close();
  await term.waitClose();

  // A session with a shell command and an agent run (a tool call and its result).
  const session = await call(s, admin, 'POST', '/session', { title: canaries.sessionTitle });
  fixture.sessionId = session.id;
  const shell = await call(s, admin, 'POST', `/session/${session.id}/shell`, { command: `echo ${canaries.shellCommand} | rev` });
  if (!JSON.stringify(shell).includes(canaries.shellOutput)) throw new Error(`shell canary missing: ${JSON.stringify(shell)}`);
  const reply = await call(s, admin, 'POST', `/session/${session.id}/message`, { text: canaries.prompt });
  for (const c of [canaries.toolOutput, canaries.reply])
    if (!JSON.stringify(reply).includes(c)) throw new Error(`agent canary missing: ${JSON.stringify(reply)}`);
  await adminStream.waitFor((t) => t.includes('message.completed') && t.includes(canaries.reply), 'the agent run on the admin stream');

  const world: World = {
    s,
    admin,
    weak,
    model,
    attacker,
    canaries,
    fixture,
    settingsFile: path.join(s.env.configHome, 'tether', 'config.json'),
    watch: processWatch(envMarker),
    envMarker,
    adminStream,
    weakStreams,
    async close() {
      adminStream.close();
      for (const { stream } of weakStreams) stream.close();
      await s.close();
      await model.close();
      await attacker.close();
      delete process.env[envName];
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  return world;
}
