// TLS end to end, with real handshakes: what `serve --tls-cert/--tls-key` accepts as files, what the
// server offers (AEAD suites only, TLS 1.2+, HSTS on every response), and the client's --ca-file.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TetherClient } from '../../src/client/client.js';
import { registerPty } from '../../src/server/routes/pty.js';
import { registerSession } from '../../src/server/routes/session.js';
import { BIN, ROOT, runCli } from '../helpers/cli.js';
import { runCliTty } from '../helpers/cli-tty.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { escapeRe, hintPrefix } from '../helpers/hint.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/tls');
const CERT = path.join(FIXTURES, 'cert.pem');
const KEY = path.join(FIXTURES, 'key.pem');
const ca = fs.readFileSync(CERT);

let t: TempEnv;
/** Another self-signed certificate and its key: a CA that did not sign the server's certificate. */
let other: { cert: string; key: string };
beforeAll(() => {
  t = tempEnv();
  other = { cert: path.join(t.root, 'other-cert.pem'), key: path.join(t.root, 'other-key.pem') };
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=other', '-days', '2'].concat([
      '-keyout',
      other.key,
      '-out',
      other.cert,
    ]),
    { stdio: 'ignore' },
  );
});
afterAll(() => t.cleanup());

describe('serve: certificate and key files are checked before it listens', () => {
  const garbage = () => {
    const f = path.join(t.root, 'garbage.pem');
    fs.writeFileSync(f, 'not pem at all\n');
    return f;
  };
  const cases: [string, () => [string, string], (c: string, k: string) => string][] = [
    ['swapped', () => [KEY, CERT], (c) => `--tls-cert ${c} holds a private key, not a certificate: --tls-cert and --tls-key look swapped`],
    ['a key of another certificate', () => [CERT, other.key], (c, k) => `--tls-key ${k} does not belong to the certificate in --tls-cert ${c}`],
    ['a certificate that is not PEM', () => [garbage(), KEY], (c) => `--tls-cert ${c} is not a PEM certificate (expected "-----BEGIN CERTIFICATE-----")`],
    ['a certificate as the key', () => [CERT, other.cert], (_c, k) => `--tls-key ${k} holds a certificate, not a private key`],
    [
      'a key encrypted with a passphrase',
      () => {
        const enc = path.join(t.root, 'encrypted-key.pem');
        execFileSync('openssl', ['pkey', '-in', KEY, '-aes256', '-passout', 'pass:secret', '-out', enc], { stdio: 'ignore' });
        return [CERT, enc];
      },
      (_c, k) => `--tls-key ${k} is encrypted with a passphrase; give an unencrypted key (e.g. openssl pkey -in KEY -out KEY.plain)`,
    ],
    ['a missing certificate file', () => ['/nonexistent/cert.pem', KEY], (c) => `--tls-cert ${c}: cannot read it (ENOENT)`],
    ['a directory as the key', () => [CERT, t.root], (_c, k) => `--tls-key ${k}: cannot read it (EISDIR)`],
  ];
  for (const [what, files, line] of cases) {
    it(`${what}: exit 1, one line naming the file, no stack trace`, async () => {
      const [c, k] = files();
      const r = await runCli(['serve', '--port', '0', '--tls-cert', c, '--tls-key', k], t.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`tether: ${line(c, k)}\n`);
      expect(r.stdout).not.toMatch(/listening/);
    });
  }
});

describe('serve --tls-cert with a self-signed certificate, first run on a terminal', () => {
  it('prints a curl line and a login command with the real port and the certificate as CA; the login command works as printed', async () => {
    const env = tempEnv();
    try {
      const pty = await import('node-pty');
      const p = pty.spawn(process.execPath, [BIN, 'serve', '--port', '0', '--project', env.root, '--tls-cert', CERT, '--tls-key', KEY], {
        env: env.env,
        cols: 250,
        rows: 50,
      });
      let out = '';
      p.onData((d) => (out += d));
      try {
        // eslint-disable-next-line no-control-regex -- on a terminal the URL comes wrapped in ESC[...m colour codes
        const url = await waitFor(() => /listening on (?:\x1b\[[0-9;]*m)*(https\S+?)(?:\x1b|\s)/.exec(out)?.[1], { timeout: 15_000, what: 'serve on a pty' });
        expect(url).not.toMatch(/:0$/);
        const tok = /(tether_[0-9A-Za-z]{28})/.exec(out)![1];
        expect(out).toContain(`curl --cacert ${CERT} -H "Authorization: Bearer ${tok}" ${url}/auth/whoami`);
        const login = new RegExp(`\\n  (${escapeRe(hintPrefix())} auth login ${escapeRe(url)} --ca-file ${escapeRe(CERT)})\\r?\\n`).exec(out)?.[1];
        expect(login).toBeDefined();
        // Run the printed command exactly as a user would paste it.
        const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const c = spawn('/bin/sh', ['-c', `${login} --token-stdin`], { env: env.env, cwd: process.cwd() });
          let stdout = '';
          let stderr = '';
          c.stdout.on('data', (d) => (stdout += d));
          c.stderr.on('data', (d) => (stderr += d));
          c.on('close', (code) => resolve({ code, stdout, stderr }));
          c.stdin.end(tok);
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`Logged in to ${url} as first-run`);
      } finally {
        p.kill('SIGKILL');
      }
    } finally {
      env.cleanup();
    }
  });
});

describe('a TLS server', () => {
  let s: TestServer;
  let port: number;
  beforeAll(async () => {
    s = await startTestServer({ tls: { cert: ca, key: fs.readFileSync(KEY) }, registrars: [registerPty, registerSession] });
    port = Number(new URL(s.url).port);
  });
  afterAll(() => s.close());

  /** One handshake: the negotiated protocol and suite, or the error. */
  function handshake(opts: tls.ConnectionOptions): Promise<{ ok: true; version: string; cipher: string } | { ok: false; error: string }> {
    return new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ...opts }, () => {
        const r = { ok: true as const, version: socket.getProtocol() ?? '', cipher: socket.getCipher().standardName };
        socket.end();
        resolve(r);
      });
      socket.on('error', (err) => resolve({ ok: false, error: err.message }));
    });
  }

  it('TLS 1.2: of every suite this client can offer, only ECDHE with AES-GCM or ChaCha20-Poly1305 is accepted', async () => {
    const accepted: string[] = [];
    const refused: string[] = [];
    for (const name of tls.getCiphers().filter((c) => !c.startsWith('tls_'))) {
      // One suite per handshake, at security level 0 so the client really offers even weak ones.
      const r = await handshake({ ciphers: `${name.toUpperCase()}:@SECLEVEL=0`, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
      (r.ok ? accepted : refused).push(name.toUpperCase());
    }
    // The fixture's key is ECDSA, so only the ECDSA variants can be negotiated.
    expect(accepted.sort()).toEqual(['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']);
    // The scanner's complaint: CBC suites were offered.
    expect(refused).toEqual(expect.arrayContaining(['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES128-SHA']));
  });

  it('a client offering only a CBC suite is refused; TLS 1.3 and TLS 1.2 AEAD work; TLS 1.1 is refused', async () => {
    const cbc = await handshake({ ciphers: 'ECDHE-ECDSA-AES128-SHA256', maxVersion: 'TLSv1.2' });
    expect(cbc.ok).toBe(false);
    expect(await handshake({ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256', maxVersion: 'TLSv1.2' })).toMatchObject({
      ok: true,
      version: 'TLSv1.2',
      cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    });
    expect(await handshake({ minVersion: 'TLSv1.3' })).toMatchObject({ ok: true, version: 'TLSv1.3' });
    const old = await handshake({ ciphers: 'DEFAULT:@SECLEVEL=0', minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
    expect(old.ok).toBe(false);
  });

  async function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; hsts: string | undefined }> {
    return new Promise((resolve, reject) => {
      https
        // The certificate's name is checked against servername, whatever Host header a case sends.
        .get(`${s.url}${pathname}`, { ca, headers, servername: 'localhost' }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, hsts: res.headers['strict-transport-security'] });
        })
        .on('error', reject);
    });
  }

  it('every response carries Strict-Transport-Security: answers, refusals, 404s, the Host check', async () => {
    const { token } = await s.token(['read']);
    const cases: [string, Record<string, string>, number][] = [
      ['/health', {}, 200],
      ['/auth/whoami', { authorization: `Bearer ${token}` }, 200],
      ['/auth/whoami', {}, 401],
      ['/no/such/route', { authorization: `Bearer ${token}` }, 404],
      ['/health', { host: 'evil.example' }, 403],
      ['/health', { origin: 'https://evil.example' }, 403],
    ];
    for (const [p, h, status] of cases) {
      const r = await get(p, h);
      expect(r.status, `${p} ${JSON.stringify(h)}`).toBe(status);
      expect(r.hsts, `${p} ${JSON.stringify(h)}`).toBe('max-age=31536000');
    }
  });

  it('plain http responses carry no HSTS (it would mean nothing there)', async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(`${plain.url}/health`);
      expect(res.headers.get('strict-transport-security')).toBeNull();
    } finally {
      await plain.close();
    }
  });

  describe('client commands', () => {
    let token: string;
    beforeAll(async () => {
      token = (await s.token(['read', 'write', 'execute'], { name: 'tls-user' })).token;
    });
    const cli = (args: string[], env: Record<string, string> = {}, input?: string) => runCli(args, { ...t.env, TETHER_TOKEN: token, ...env }, { input });

    it('without --ca-file, a self-signed server is one line saying what to pass', async () => {
      const r = await cli(['auth', 'status', s.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `tether: cannot reach tether at ${s.url}: self-signed certificate (the server's certificate is not signed by a CA this client trusts; ` +
          'pass --ca-file FILE (or set TETHER_CA_FILE) with the CA certificate (for a self-signed server: its certificate))\n',
      );
    });

    it('--ca-file or TETHER_CA_FILE: auth status, auth login, run --shell', async () => {
      const flag = await cli(['auth', 'status', s.url, '--json', '--ca-file', CERT]);
      expect(flag.code, flag.stderr).toBe(0);
      expect(JSON.parse(flag.stdout)).toMatchObject({ name: 'tls-user' });
      const env = await cli(['auth', 'status', s.url, '--json'], { TETHER_CA_FILE: CERT });
      expect(env.code, env.stderr).toBe(0);
      const login = await cli(['auth', 'login', s.url, '--token-stdin', '--ca-file', CERT], { TETHER_TOKEN: '' }, token);
      expect(login.code, login.stderr).toBe(0);
      expect(login.stdout).toContain(`Logged in to ${s.url} as tls-user`);
      const shell = await cli(['run', '--url', s.url, '--shell', 'echo over-tls'], { TETHER_CA_FILE: CERT });
      expect(shell.code, shell.stderr).toBe(0);
      expect(shell.stdout).toBe('over-tls\n');
    });

    it('every command that talks to a server takes --ca-file; config and share work over TLS with it', async () => {
      for (const cmd of [
        ['auth', 'status'],
        ['attach'],
        ['run'],
        ['share', 'pty'],
        ['share', 'session'],
        ['pair'],
        ['config', 'list'],
        ['config', 'get'],
        ['config', 'set'],
        ['config', 'unset'],
      ]) {
        const help = await cli([...cmd, '--help']);
        expect(help.stdout, cmd.join(' ')).toContain('--ca-file <file>');
      }
      const config = await cli(['config', '--url', s.url, '--json', '--ca-file', CERT]);
      expect(config.code, config.stderr).toBe(0);
      // Over TLS with the flag, the server answers (no such terminal), rather than the certificate error.
      const share = await cli(['share', 'pty', 'pty_0000000000000000', '--url', s.url, '--ca-file', CERT]);
      expect(share.code).not.toBe(0);
      expect(share.stderr).toMatch(/pty_0000000000000000/);
      expect(share.stderr).not.toMatch(/certificate/);
    });

    it('attach over TLS: the WebSocket trusts the same CA', async () => {
      const r = await runCliTty(['attach', '--url', s.url, '--ca-file', CERT, '--', 'sh', '-c', 'echo wss-ok; exit 4'], { ...t.env, TETHER_TOKEN: token });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stdout).toContain('wss-ok');
      const refused = await runCliTty(['attach', '--url', s.url, '--', 'true'], { ...t.env, TETHER_TOKEN: token });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/self-signed certificate \(the server's certificate is not signed by a CA this client trusts/);
    });

    it('a CA that did not sign the certificate is not trusted (it replaces the system roots, it does not widen them)', async () => {
      const r = await cli(['auth', 'status', s.url, '--ca-file', other.cert]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/not signed by a CA this client trusts/);
    });

    it('a missing or wrong CA file is a usage error naming the file and where it came from', async () => {
      const missing = await cli(['auth', 'status', s.url, '--ca-file', '/nonexistent/ca.pem']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toBe('tether: --ca-file /nonexistent/ca.pem: cannot read it (ENOENT)\n');
      const wrong = await cli(['auth', 'status', s.url], { TETHER_CA_FILE: KEY });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toBe(`tether: TETHER_CA_FILE ${KEY}: no PEM certificate in it (expected "-----BEGIN CERTIFICATE-----")\n`);
      const broken = path.join(t.root, 'broken-ca.pem');
      fs.writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      const b = await cli(['auth', 'status', s.url, '--ca-file', broken]);
      expect(b.code).toBe(2);
      expect(b.stderr).toBe(`tether: --ca-file ${broken}: a certificate in it cannot be parsed\n`);
      // For a plain http server the CA file is not used, so a stale TETHER_CA_FILE does not get in the way.
      const plain = await cli(['auth', 'status', 'http://127.0.0.1:1'], { TETHER_CA_FILE: '/nonexistent/ca.pem' });
      expect(plain.stderr).toMatch(/cannot reach tether at http:\/\/127\.0\.0\.1:1/);
    });

    it('the client streams an event stream through the CA-trusting transport', async () => {
      const client = new TetherClient({ url: s.url, token, ca });
      const ctl = new AbortController();
      const types: string[] = [];
      await client.events((e) => {
        types.push(e.type);
        ctl.abort();
      }, ctl.signal);
      expect(types[0]).toBe('server.connected');
    });
  });
});
