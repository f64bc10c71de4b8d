// `tether share pty|session ID` and `tether attach --view`, as a user runs them (the built CLI as a
// child process; attach through a real pseudo-terminal).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IPty } from 'node-pty';
import { ptyRoutes } from '../../src/server/routes/pty.js';
import { sessionRoutes } from '../../src/server/routes/session.js';
import { BIN, runCli } from '../helpers/cli.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { bash, connect, ready } from '../pty-routes/helpers.js';

let s: TestServer;
let admin: string;
beforeAll(async () => {
  s = await startTestServer({ registrars: [ptyRoutes(), sessionRoutes()] });
  admin = (await s.token()).token;
});
afterAll(() => s.close());

const env = (token = admin) => ({ ...s.env.env, TETHER_URL: s.url, TETHER_TOKEN: token });
const cli = (args: string[], token = admin) => runCli(args, env(token));

async function newPty(): Promise<{ id: string }> {
  const res = await s.fetch('/pty', { method: 'POST', token: admin, headers: { 'content-type': 'application/json' }, body: JSON.stringify(bash()) });
  return res.json();
}

describe('tether share', () => {
  it('pty --json: one object with the link; the token watches only that terminal; list shows it; delete revokes it', async () => {
    const pty = await newPty();
    const r = await cli(['share', 'pty', pty.id, '--json', '--expires', '2h']);
    expect(r.code, r.stderr).toBe(0);
    const link = JSON.parse(r.stdout);
    expect(link).toMatchObject({ target: { type: 'pty', id: pty.id }, id: expect.stringMatching(/^tok_/) });
    expect(link.url).toMatch(new RegExp(`^${s.url}/share#tether_[0-9A-Za-z]{28}$`));
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(2 * 3_600_000 - 60_000);
    const token = link.url.split('#')[1];
    expect((await s.fetch(`/pty/${pty.id}`, { token })).status).toBe(200);
    expect((await s.fetch('/pty', { token })).status).toBe(403);

    const list = await runCli(['auth', 'token', 'list'], { ...env(), COLUMNS: '300' });
    expect(list.stdout).toMatch(/ID +NAME +KIND +PERMISSIONS +CREATED +EXPIRES +LAST USED( +FROM)? +STATUS +REACH/);
    expect(list.stdout).toMatch(new RegExp(`${link.id} +${link.name} +share +read +.* active +pty ${pty.id}`));
    const json = JSON.parse((await cli(['auth', 'token', 'list', '--json'])).stdout);
    expect(json.find((t: { id: string }) => t.id === link.id)).toMatchObject({ kind: 'share', target: { type: 'pty', id: pty.id }, permissions: ['read'] });
    expect(list.stdout).not.toContain(token);

    const del = await cli(['auth', 'token', 'delete', link.id]);
    expect(del.code).toBe(0);
    expect((await s.fetch(`/pty/${pty.id}`, { token })).status).toBe(401);
  });

  it('session: the human form says what the link does, when it expires, and how to revoke it', async () => {
    const ses = await (await s.fetch('/session', { method: 'POST', token: admin, headers: { 'content-type': 'application/json' }, body: '{}' })).json();
    const r = await cli(['share', 'session', ses.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Share link for session ${ses.id} \\(view only\\), expires \\S+ \\(in (60 minutes|1 hour)\\):`));
    expect(r.stdout).toMatch(new RegExp(`\\n  ${s.url}/share#tether_[0-9A-Za-z]{28}\\n`));
    expect(r.stdout).toMatch(/Anyone with this link can watch this session until then, and nothing else\. It is shown only once\./);
    expect(r.stdout).toMatch(new RegExp(`Revoke it with: ${escapeRe(hintPrefix())} auth token delete tok_[0-9a-z]{10}\n$`));
  });

  it('refuses bad expiries and ids as usage errors (exit 2), before sending anything', async () => {
    const pty = await newPty();
    const cases: [string[], RegExp][] = [
      [['share', 'pty', pty.id, '--expires', '8d'], /more than 7 days/],
      [['share', 'pty', pty.id, '--expires', 'never'], /always expires/],
      [['share', 'pty', pty.id, '--expires', 'tomorrow'], /at most 7 days away/],
      [['share', 'pty', 'not-an-id'], /takes a terminal id like pty_/],
      [['share', 'session', pty.id], /takes a session id like ses_/],
      [['share', 'file', 'x'], /unknown command|error/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(s.logs.filter((l) => l.event === 'share.created' && JSON.stringify(l).includes(pty.id))).toEqual([]);
  });

  it('needs read + write + execute: a weaker token gets one clear line (exit 1); an unknown terminal is not found', async () => {
    const pty = await newPty();
    const { token: rx } = await s.token(['read', 'execute']);
    const r = await cli(['share', 'pty', pty.id], rx);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^tether: this token lacks write; create one with \`${escapeRe(hintPrefix())} auth token create --permissions read,write,execute\``),
    );
    const u = await cli(['share', 'pty', 'pty_0000000000000000']);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/not found/);
  });
});

interface Attached {
  p: IPty;
  out: () => string;
  exit: Promise<number>;
}

async function attach(args: string[], token: string): Promise<Attached> {
  const pty = await import('node-pty');
  const p = pty.spawn(process.execPath, [BIN, 'attach', '--url', s.url, ...args], { env: env(token), cols: 100, rows: 30 });
  let out = '';
  p.onData((d) => (out += d));
  const exit = new Promise<number>((r) => p.onExit((e) => r(e.exitCode)));
  return { p, out: () => out, exit };
}

describe('tether attach --view', () => {
  it('with a share token and no --pty: watches the shared terminal; what is typed never reaches it; exits with its exit code', async () => {
    const pty = await newPty();
    const owner = await connect(`${s.url.replace(/^http/, 'ws')}/pty/${pty.id}/connect`, { token: admin });
    await ready(owner);
    owner.type('echo before-$((2+2))\r');
    await owner.waitText('before-4');
    const link = JSON.parse((await cli(['share', 'pty', pty.id, '--json'])).stdout);
    const a = await attach(['--view'], link.url.split('#')[1]);
    await waitFor(() => a.out().includes(`watching terminal ${pty.id}`) && a.out().includes('before-4'), { what: 'the scrollback in the viewer' });
    a.p.write('echo VIEWER-TYPED-$((3*3))\r');
    a.p.resize(40, 10);
    owner.type('echo owner-$((5+5))\r');
    await waitFor(() => a.out().includes('owner-10'), { what: 'live output in the viewer' });
    owner.type('stty size; exit 3\r');
    expect(await a.exit).toBe(3);
    expect(owner.text()).not.toContain('VIEWER-TYPED');
    expect(owner.text()).toMatch(/\D24 80\r\n/); // the viewer's resize went nowhere
  });

  it('with an ordinary token and --pty: watches view only; Ctrl-C detaches (exit 0) and says how to watch again', async () => {
    const pty = await newPty();
    const a = await attach(['--view', '--pty', pty.id], admin);
    // The scrollback (the prompt) shows once attach has put the terminal in raw mode.
    await waitFor(() => /view only[^]*\$ /.test(a.out()), { what: 'watching' });
    a.p.write('touch nope\r');
    a.p.write('\x03');
    expect(await a.exit).toBe(0);
    expect(a.out()).toMatch(
      new RegExp(`detached from ${pty.id}; it is still running\\. Reattach with: ${escapeRe(hintPrefix())} attach --view --pty ${pty.id}`),
    );
    const owner = await connect(`${s.url.replace(/^http/, 'ws')}/pty/${pty.id}/connect`, { token: admin });
    owner.type('ls; echo listed-$((1+6))\r');
    await owner.waitText('listed-7');
    expect(owner.text()).not.toMatch(/\bnope\b/);
    owner.close();
  });

  it('refuses --view with --command, and --view without --pty for a token that shares nothing', async () => {
    const c = await cli(['attach', '--view', '--command', 'bash']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--view watches an existing terminal/);
    // In a terminal (attach refuses to run without one), with a token that shares nothing.
    const n = await attach(['--view'], admin);
    expect(await n.exit).toBe(2);
    expect(n.out()).toMatch(/--view needs --pty ID/);
  });
});
