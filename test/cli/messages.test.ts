// Messages said once: where each was composed from parts that repeated each other, the parts now
// fit together; the exact text is asserted. And `tether auth token list` fits its width.
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { describeMalformed, parseToken, type MalformedDetail } from '../../src/auth/token-format.js';
import type { ListedToken } from '../../src/auth/token-admin.js';
import { tokenListText } from '../../src/cli/auth-token.js';
import { runEnded } from '../../src/cli/run.js';
import { registerSession } from '../../src/server/routes/session.js';
import { registerWebLogin } from '../../src/server/routes/web-login.js';
import { loginRefusedMessage } from '../../src/web/modules/login-text.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('"that is not a tether token: token is not a valid tether token"', () => {
  const DETAILS: MalformedDetail[] = ['not_a_string', 'wrong_length', 'wrong_prefix', 'bad_character', 'out_of_range', 'bad_checksum'];

  it('each detail says what is wrong with the token, never again that it is not a token', () => {
    for (const d of DETAILS) expect(describeMalformed(d), d).not.toMatch(/tether token|not a valid/);
  });

  it('auth login with a token out of range: the exact line', async () => {
    const t = tempEnv();
    try {
      const outOfRange = `tether_${'z'.repeat(22)}000000`;
      expect(parseToken(outOfRange)).toEqual({ ok: false, reason: 'malformed', detail: 'out_of_range' });
      const r = await runCli(['auth', 'login', 'http://127.0.0.1:1', '--token-stdin'], t.env, { input: outOfRange });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'tether: that is not a tether token: token is out of range (the 22 characters after "tether_" encode more than 128 bits; mistyped?)\n',
      );
    } finally {
      t.cleanup();
    }
  });
});

describe('"That token was not accepted (that token was not accepted)." on the web login page', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ registrars: [registerWebLogin] });
  });
  afterAll(() => s.close());

  async function refusal(body: unknown): Promise<string> {
    const res = await s.fetch('/auth/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const e = (await res.json()) as { error: { code: string; message: string } };
    return loginRefusedMessage(res.status, e.error, res.headers.get('retry-after'));
  }

  it('each refusal of the real server is said once, by its reason', async () => {
    const { generateToken } = await import('../../src/auth/token-format.js');
    expect(await refusal({ token: generateToken() })).toBe('That token was not accepted: it was revoked, or this server never issued it.');
    expect(await refusal({ token: 'tether_nope' })).toBe(
      'That token was not accepted: a tether token is "tether_" followed by 28 letters and digits; paste it whole.',
    );
    // The server answers an expired token with the same message and code expired_token.
    expect(loginRefusedMessage(401, { code: 'expired_token', message: 'that token was not accepted' }, null)).toBe(
      'That token has expired. Create a new one on the server.',
    );
  });

  it('the other answers', () => {
    expect(loginRefusedMessage(429, { code: 'too_many_failures', message: 'x' }, '30')).toBe('Too many failed attempts. Try again in 30 seconds.');
    expect(loginRefusedMessage(400, { code: 'bad_request', message: 'token: too long' }, null)).toBe(
      'That token was not accepted: a tether token is "tether_" followed by 28 letters and digits; paste it whole.',
    );
    expect(loginRefusedMessage(401, { code: 'auth_disabled', message: 'this server runs without authentication' }, null)).toBe(
      'Login failed: this server runs without authentication',
    );
    expect(loginRefusedMessage(401, { code: 'something_new', message: 'that token was not accepted' }, null)).toBe('That token was not accepted.');
    expect(loginRefusedMessage(500, { code: 'internal', message: 'boom' }, null)).toBe('Login failed: boom');
  });
});

describe('"the run ended aborted: aborted: aborted by request"', () => {
  let s: TestServer;
  let model: FakeModel;
  let token: string;
  beforeAll(async () => {
    s = await startTestServer({ registrars: [registerSession] });
    model = await startFakeModel();
    token = (await s.token()).token;
    const cfg = await s.fetch('/config', {
      method: 'PATCH',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ modelUrl: model.baseURL, model: 'fake', apiKey: 'k' }),
    });
    expect(cfg.status).toBe(200);
  });
  afterAll(async () => {
    await s.close();
    await model.close();
  });

  it('a run aborted by POST /abort: the CLI says "the run was aborted by request", the message stores "aborted by request"', async () => {
    model.reply({ hang: true, text: ['partial'] });
    const child = spawnCli(['run', '--url', s.url, 'think long'], { ...s.env.env, TETHER_TOKEN: token });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const id = await waitFor(() => /session (ses_\S+)/.exec(err)?.[1], { what: 'the session id' });
    await waitFor(() => out.includes('partial'), { what: 'the reply to start' });
    expect((await s.fetch(`/session/${id}/abort`, { method: 'POST', token })).status).toBe(200);
    expect(await exited).toBe(1);
    expect(err.endsWith('the run was aborted by request\n'), err).toBe(true);
    const msgs = (await (await s.fetch(`/session/${id}/message`, { token })).json()) as { messages: { role: string; status: string; error: string | null }[] };
    expect(msgs.messages.at(-1)).toMatchObject({ role: 'assistant', status: 'aborted', error: 'aborted by request' });
  });

  it('runEnded: each ending said once', () => {
    expect(runEnded('run', { status: 'aborted', error: 'aborted by request' })).toBe('the run was aborted by request');
    expect(runEnded('run', { status: 'aborted', error: 'aborted because the session was deleted' })).toBe(
      'the run was aborted because the session was deleted',
    );
    expect(runEnded('command', { status: 'aborted', error: 'aborted' })).toBe('the command was aborted');
    expect(runEnded('run', { status: 'aborted', error: null })).toBe('the run was aborted');
    // An error that does not say "aborted" itself (e.g. from another server version) gets the word once.
    expect(runEnded('run', { status: 'aborted', error: 'client went away' })).toBe('the run was aborted: client went away');
    expect(runEnded('run', { status: 'error', error: 'the model provider failed' })).toBe('the run failed: the model provider failed');
    expect(runEnded('command', { status: 'error', error: null })).toBe('the command failed');
  });
});

describe('tether auth token list fits the width', () => {
  const long = (c: string) => `${c}${'-very-long-token-name'.repeat(3)}`.slice(0, 64);
  const token = (id: string, name: string, o: Partial<ListedToken> = {}): ListedToken => ({
    id,
    name,
    permissions: ['read', 'write', 'execute'],
    createdAt: '2026-05-01T10:20:30.000Z',
    expiresAt: '2026-07-30T10:20:30.000Z',
    lastUsedAt: '2026-05-02T08:00:00.000Z',
    status: 'active',
    ...o,
  });
  const widest = (text: string) => Math.max(...text.split('\n').map((l) => l.length));

  it('at 80 columns: short names in a table, long names in blocks, nothing cut', () => {
    const short = [token('tok_0123456789', 'laptop'), token('tok_abcdefghij', 'ci', { expiresAt: null, lastUsedAt: null, permissions: ['read'] })];
    const narrow = tokenListText(short, 80);
    expect(widest(narrow)).toBeLessThanOrEqual(80);
    expect(narrow).toBe(
      'ID              NAME    PERMISSIONS         EXPIRES     LAST USED   STATUS\n' +
        'tok_0123456789  laptop  read,write,execute  2026-07-30  2026-05-02  active\n' +
        'tok_abcdefghij  ci      read                never       never       active\n',
    );
    const longOnes = [token('tok_0123456789', long('a')), token('tok_abcdefghij', 'x'.repeat(64), { status: 'expired' })];
    const blocks = tokenListText(longOnes, 80);
    expect(widest(blocks)).toBeLessThanOrEqual(80);
    expect(blocks).toBe(
      `tok_0123456789  ${long('a')}\n` +
        '  read,write,execute, created 2026-05-01, expires 2026-07-30\n' +
        '  last used 2026-05-02, active\n' +
        '\n' +
        `tok_abcdefghij  ${'x'.repeat(64)}\n` +
        '  read,write,execute, created 2026-05-01, expires 2026-07-30\n' +
        '  last used 2026-05-02, expired\n',
    );
  });

  it('a wide terminal gets the full table with minute times; a narrow one still fits', () => {
    const wide = tokenListText([token('tok_0123456789', long('a'))], 200);
    expect(wide.split('\n')[0]).toMatch(/^ID +NAME +PERMISSIONS +CREATED +EXPIRES +LAST USED +STATUS$/);
    expect(wide).toContain('2026-05-01 10:20Z');
    const tiny = tokenListText([token('tok_0123456789', 'laptop')], 40);
    expect(widest(tiny)).toBeLessThanOrEqual(40);
    expect(tiny).toContain('laptop');
  });

  describe('the real command', () => {
    let t: TempEnv;
    beforeEach(async () => {
      t = tempEnv();
      for (const name of [long('a'), long('b'), 'short']) {
        const r = await runCli(['auth', 'token', 'create', '--json', '--name', name], t.env);
        expect(r.code, r.stderr).toBe(0);
      }
    });
    afterEach(() => t.cleanup());

    it('piped (no terminal width known): 80 columns, every name whole', async () => {
      const env = { ...t.env };
      delete env.COLUMNS;
      const r = await runCli(['auth', 'token', 'list'], env);
      expect(r.code).toBe(0);
      expect(widest(r.stdout)).toBeLessThanOrEqual(80);
      for (const name of [long('a'), long('b'), 'short']) expect(r.stdout).toContain(name);
    });

    it('on an 80-column terminal, and with COLUMNS=200 when piped', async () => {
      const pty = await import('node-pty');
      const { BIN } = await import('../helpers/cli.js');
      const p = pty.spawn(process.execPath, [BIN, 'auth', 'token', 'list'], { env: t.env, cols: 80, rows: 40 });
      let out = '';
      p.onData((d) => (out += d));
      expect(await new Promise<number>((r) => p.onExit((e) => r(e.exitCode)))).toBe(0);
      // eslint-disable-next-line no-control-regex -- colour codes take no columns
      expect(widest(out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, ''))).toBeLessThanOrEqual(80);
      const wide = await runCli(['auth', 'token', 'list'], { ...t.env, COLUMNS: '200' });
      expect(wide.stdout.split('\n')[0]).toMatch(/^ID +NAME +PERMISSIONS +CREATED +EXPIRES +LAST USED +STATUS$/);
    });
  });
});
