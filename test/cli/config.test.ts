// `tether config`: list, get, set, unset against a real server, with each value's source; the API
// key only from a hidden prompt or --stdin; a token that may not change settings told why.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const VARS = ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY'];
const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
let s: TestServer;
let admin: string;

beforeAll(async () => {
  for (const k of VARS) delete process.env[k];
  s = await startTestServer();
  admin = (await s.token(['read', 'write', 'execute'])).token;
});
afterEach(async () => {
  for (const k of VARS) delete process.env[k];
  await s.fetch('/config', {
    method: 'PATCH',
    token: admin,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ modelUrl: null, model: null, apiKey: null, agentMaxSteps: null, shell: null }),
  });
});
afterAll(async () => {
  await s.close();
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

/** The CLI's own environment never has the model variables: only the server's matter. */
const cli = (args: string[], opts: { token?: string; input?: string } = {}) =>
  runCli(['config', ...args, '--url', s.url], { ...s.env.env, TETHER_TOKEN: opts.token ?? admin }, { input: opts.input });
const config = async () => (await (await s.fetch('/config', { token: admin })).json()) as Record<string, any>;

describe('tether config', () => {
  it('lists every setting with its value and source; --json gives the server answer', async () => {
    const r = await cli([]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^SETTING\s+VALUE\s+SOURCE$/);
    expect(lines.slice(1, 6).map((l) => l.split(/\s{2,}/))).toEqual([
      ['modelUrl', 'not set', 'default'],
      ['model', 'not set', 'default'],
      ['apiKey', 'not set', 'default'],
      ['shell', '(server default)', 'default'],
      ['agentMaxSteps', '20', 'default'],
    ]);
    expect(r.stdout).toContain(`settings of the server at ${s.url}; its environment wins over its config file`);
    const j = await cli(['--json']);
    expect(JSON.parse(j.stdout)).toEqual(await config());
  });

  it('set, get and unset a value in the config file', async () => {
    let r = await cli(['set', 'modelUrl', 'http://127.0.0.1:11434/v1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("modelUrl saved in the server's config file; now: http://127.0.0.1:11434/v1 (config file)\n");
    expect((await cli(['get', 'modelUrl'])).stdout).toBe('http://127.0.0.1:11434/v1\n');
    expect((await cli(['set', 'agentMaxSteps', '7'])).code).toBe(0);
    expect((await config()).agentMaxSteps).toBe(7);
    r = await cli(['unset', 'agentMaxSteps']);
    expect(r.stdout).toBe("agentMaxSteps removed from the server's config file; now: 20 (default)\n");
    r = await cli(['unset', 'modelUrl']);
    expect(r.code).toBe(0);
    r = await cli(['get', 'modelUrl']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('modelUrl is not set\n');
  }, 60_000);

  it('a value from the server environment is marked, and setting it in the file warns that it is not used', async () => {
    process.env.TETHER_MODEL = 'env-model';
    const r = await cli(['set', 'model', 'file-model']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("model saved in the server's config file; now: env-model (env TETHER_MODEL (config file value unused))\n");
    expect(r.stderr).toBe("warning: the config file's model (file-model) is not used: the environment takes precedence\n");
    const list = (await cli([])).stdout;
    expect(list).toMatch(/^model\s+env-model\s+env TETHER_MODEL \(config file value unused\)$/m);
    expect(list).toMatch(/^model: the config file's model \(file-model\) is not used: the environment takes precedence$/m);
    expect(JSON.parse((await cli(['get', 'model', '--json'])).stdout)).toMatchObject({ key: 'model', value: 'env-model', source: 'env', env: 'TETHER_MODEL' });
  }, 60_000);

  it('the API key: refused from argv (exit 2, saying how), read from --stdin, never printed', async () => {
    let r = await cli(['set', 'apiKey', 'sk-on-the-command-line']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the API key is not taken from the command line .*`tether config set apiKey`.*hidden prompt.*--stdin/);
    expect((await config()).apiKeySet).toBe(false);
    // Without a terminal and without --stdin there is no way to type it.
    r = await cli(['set', 'apiKey']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a terminal.*--stdin/);

    await cli(['set', 'modelUrl', 'http://127.0.0.1:11434/v1']);
    r = await cli(['set', 'apiKey', '--stdin'], { input: 'sk-from-stdin-123\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('sk-from-stdin-123');
    expect(r.stdout).toBe("apiKey saved in the server's config file; now: set (hidden) (config file)\n");
    expect((await cli(['get', 'apiKey'])).stdout).toBe('set\n');
    expect((await cli([])).stdout + (await cli(['--json'])).stdout).not.toContain('sk-from-stdin-123');
  }, 60_000);

  it('a new modelUrl drops the key that was set for the old one, and says so', async () => {
    await s.fetch('/config', {
      method: 'PATCH',
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ modelUrl: 'http://127.0.0.1:11434/v1', apiKey: 'sk-for-the-old-url' }),
    });
    const r = await cli(['set', 'modelUrl', 'http://127.0.0.1:8080/v1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'note: the stored apiKey was removed with the old modelUrl (a key is sent only where it was set for); set it again with `tether config set apiKey`\n',
    );
    expect((await config()).apiKeySet).toBe(false);
  });

  it('reads the API key from a hidden prompt on a terminal, without echoing it', async () => {
    const pty = await import('node-pty');
    const p = pty.spawn(process.execPath, [BIN, 'config', 'set', 'apiKey', '--url', s.url], {
      env: { ...s.env.env, TETHER_TOKEN: admin },
      cols: 120,
      rows: 20,
    });
    let out = '';
    p.onData((d) => (out += d));
    const exit = new Promise<number>((resolve) => p.onExit((e) => resolve(e.exitCode)));
    await waitFor(() => out.includes('API key for the model (input hidden): '), { what: 'the prompt' });
    p.write('sk-typed-at-the-prompt\r');
    expect(await exit).toBe(0);
    expect(out).not.toContain('sk-typed-at-the-prompt');
    expect((await config()).apiKeySet).toBe(true);
  });

  it('usage errors exit 2 naming what is accepted; a token that may not change settings is told why', async () => {
    let r = await cli(['set', 'colour', 'red']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('tether: unknown setting "colour"; the settings are: modelUrl, model, apiKey, shell, agentMaxSteps\n');
    r = await cli(['set', 'agentMaxSteps', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/agentMaxSteps must be a whole number from 1 to 200, not "many"/);
    r = await cli(['set', 'model']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/give a value: tether config set model VALUE/);
    // The server's own check: one line with its reason.
    r = await cli(['set', 'modelUrl', 'ftp://example.com']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tether: body\.modelUrl: must be an http\(s\) URL/);

    for (const perms of [['read'], ['read', 'write']] as const) {
      const { token } = await s.token([...perms]);
      r = await cli(['set', 'model', 'x'], { token });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /^tether: changing the server's settings needs write and execute \(settings decide what runs and where prompts go\): this token lacks/,
      );
      // Reading needs only read.
      expect((await cli([], { token })).code).toBe(0);
    }
    expect((await config()).model).toBeNull();
  }, 60_000);
});
