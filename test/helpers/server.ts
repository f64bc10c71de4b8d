// A real listening tether server in this process, on 127.0.0.1 and a free port, with its own temp
// config/data dirs and project dir. Tests create tokens through the real store.
import fs from 'node:fs';
import path from 'node:path';
import { createToken } from '../../src/auth/token-admin.js';
import type { Permission } from '../../src/auth/permissions.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server/server.js';
import type { Logger, LogLevel } from '../../src/log.js';
import { tempEnv, type TempEnv } from './env.js';

export interface LogLine {
  level: LogLevel;
  event: string;
  [k: string]: unknown;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  env: TempEnv;
  project: string;
  logs: LogLine[];
  /** A new token with these permissions (default all), via the real store. */
  token(permissions?: Permission[], opts?: { name?: string; expiresAt?: string | null }): Promise<{ token: string; id: string }>;
  /** fetch with an optional Bearer token. */
  fetch(pathname: string, init?: RequestInit & { token?: string }): Promise<Response>;
  /** Closes the server and starts a new one on the same dirs (same database, tokens, settings). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(opts: Partial<StartOptions> = {}): Promise<TestServer> {
  const env = tempEnv();
  const saved = {
    XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME,
    XDG_DATA_HOME: process.env.XDG_DATA_HOME,
    XDG_STATE_HOME: process.env.XDG_STATE_HOME,
    HOME: process.env.HOME,
  };
  process.env.XDG_CONFIG_HOME = env.configHome;
  process.env.XDG_DATA_HOME = env.dataHome;
  process.env.XDG_STATE_HOME = env.stateHome;
  // Terminals and commands the server starts inherit this: no real rc files (slow, and not ours).
  process.env.HOME = env.root;
  const project = path.join(env.root, 'project');
  fs.mkdirSync(project);
  const logs: LogLine[] = [];
  const log: Logger = { log: (level, event, fields = {}) => logs.push({ level, event, ...fields }) };
  const start = () =>
    startServer({
      port: 0,
      hostname: '127.0.0.1',
      projectDir: project,
      auth: true,
      tokenFile: env.tokenFile,
      settingsFile: path.join(env.configHome, 'tether', 'config.json'),
      log,
      ...opts,
    });
  const server = await start();
  let n = 0;
  const t: TestServer = {
    url: server.url,
    server,
    env,
    project: fs.realpathSync(project),
    logs,
    async token(permissions = ['read', 'write', 'execute'], o = {}) {
      const { token, record } = await createToken(
        { name: o.name ?? `t${++n}-${Date.now().toString(36)}`, permissions, expiresAt: o.expiresAt === undefined ? null : o.expiresAt },
        env.tokenFile,
      );
      return { token, id: record.id };
    },
    fetch(pathname, init = {}) {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return fetch(t.url + pathname, { ...rest, headers });
    },
    async restart() {
      await t.server.close();
      t.server = await start();
      t.url = t.server.url;
    },
    async close() {
      await t.server.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      env.cleanup();
    },
  };
  return t;
}
