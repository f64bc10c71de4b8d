// Adversarial HTTP suite: generated request variants (path, method, credential, Host/Origin tricks)
// sent byte-exact to a real listening server whose handlers record every request that reaches them.
// For each variant the expected status is stated, and no variant may reach a handler it is not
// entitled to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/auth/token-format.js';
import { requiredPermissions } from '../../src/auth/policy.js';
import type { Permission } from '../../src/auth/permissions.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { probeRegistrar, type ProbeHit } from '../helpers/probe.js';
import { rawRequest } from '../helpers/raw-http.js';

const hits: ProbeHit[] = [];
let s: TestServer;
let port: number;
const T: Record<'R' | 'RW' | 'RWX' | 'X', { token: string; perms: Permission[] }> = {} as never;

beforeAll(async () => {
  s = await startTestServer({ registrars: [probeRegistrar(hits)], cors: ['https://trusted.example'] });
  port = Number(new URL(s.url).port);
  const sets: [keyof typeof T, Permission[]][] = [
    ['R', ['read']],
    ['RW', ['read', 'write']],
    ['RWX', ['read', 'write', 'execute']],
    ['X', ['execute']],
  ];
  for (const [k, perms] of sets) T[k] = { token: (await s.token(perms)).token, perms };
});
afterAll(() => s.close());

interface Variant {
  category: 'path' | 'method' | 'credential' | 'host-origin';
  name: string;
  method?: string;
  target: string;
  headers?: [string, string][];
  /** Status (or any of several) the server must answer. */
  expect: number | number[];
  /** Which token's permissions the request carries (for the entitlement check), if any. */
  as?: keyof typeof T;
}

function build(v: Variant): string {
  const headers: [string, string][] = v.headers ?? [];
  const hasHost = headers.some(([k]) => k.toLowerCase() === 'host');
  const lines = [
    `${v.method ?? 'GET'} ${v.target} HTTP/1.1`,
    ...(hasHost ? [] : [`Host: 127.0.0.1:${port}`]),
    ...headers.map(([k, val]) => `${k}: ${val}`),
    'Connection: close',
    '',
    '',
  ];
  return lines.join('\r\n');
}

const bearer = (k: keyof typeof T): [string, string] => ['Authorization', `Bearer ${T[k].token}`];

// ---- path tricks: each raw path, with what it canonicalises to ----
// kind: exec = an interactive route that exists; exec404 = needs execute, no such route;
// plain404 = not interactive, no such route; bad = refused before auth (400).
const PATH_VARIANTS: [string, 'exec' | 'exec404' | 'plain404' | 'bad'][] = [
  ['/pty', 'exec'],
  ['//pty', 'exec'],
  ['///pty//', 'exec'],
  ['/pty/', 'exec'],
  ['/%70ty', 'exec'],
  ['/%70%74%79', 'exec'],
  ['/%50TY', 'exec404'],
  ['/PTY', 'exec404'],
  ['/pTy/abc', 'exec404'],
  ['/%2570ty', 'plain404'], // double encoding is decoded once only: "/%70ty" is no route
  ['/x/../pty', 'exec'],
  ['/./pty', 'exec'],
  ['/x/%2e%2e/pty', 'exec'],
  ['/x/%2E%2E/session', 'exec'],
  ['/%2e/pty', 'exec'],
  ['/x/.%2e/pty', 'exec'],
  ['/../../../pty', 'exec'],
  ['/pty%2fabc', 'exec'],
  ['/session%2Fabc%2Fmessage', 'exec'],
  ['/x%2f..%2fmessage', 'exec'],
  ['/x%5c..%5cpty', 'exec'], // encoded backslashes are separators too
  ['/pty\\abc', 'bad'], // a raw backslash: refused by the HTTP parser
  ['/%c0%afpty', 'bad'], // overlong UTF-8 for "/"
  ['/%c0%ae%c0%ae/pty', 'bad'], // overlong UTF-8 for ".."
  ['/%e0%80%afpty', 'bad'],
  ['/pty%00', 'bad'],
  ['/pty%00.json', 'bad'],
  ['/%00/pty', 'bad'],
  ['/pty%0a', 'bad'],
  ['/pty%', 'bad'],
  ['/pty%zz', 'bad'],
  ['/pty;jsessionid=1', 'plain404'],
  ['/pty.json', 'plain404'],
  ['/pty%20', 'plain404'],
  ['/%ef%bd%90%ef%bd%94%ef%bd%99', 'plain404'], // fullwidth "ｐｔｙ"
  ['/session', 'exec'],
  ['/SESSION/abc', 'exec404'],
  ['/message/', 'exec'],
  ['/probe/../message', 'exec'],
  ['/probe%2f..%2f..%2fpty', 'exec'],
];

function pathVariants(): Variant[] {
  const out: Variant[] = [];
  for (const [target, kind] of PATH_VARIANTS) {
    out.push({ category: 'path', name: `${target} without a token`, target, expect: kind === 'bad' ? 400 : 401 });
    for (const who of ['R', 'RW', 'RWX'] as const) {
      const want = kind === 'bad' ? 400 : kind === 'plain404' ? 404 : who !== 'RWX' ? 403 : kind === 'exec' ? 200 : 404;
      out.push({ category: 'path', name: `${target} as ${who}`, target, headers: [bearer(who)], expect: want, as: who });
    }
  }
  return out;
}

function methodVariants(): Variant[] {
  return [
    { category: 'method', name: 'lower-case get', method: 'get', target: '/pty', headers: [bearer('RWX')], expect: 400 },
    { category: 'method', name: 'lower-case post', method: 'post', target: '/pty', headers: [bearer('RWX')], expect: 400 },
    { category: 'method', name: 'mixed-case Get', method: 'Get', target: '/pty', headers: [bearer('RWX')], expect: 400 },
    {
      category: 'method',
      name: 'override POST->GET with read token',
      method: 'POST',
      target: '/pty',
      headers: [bearer('R'), ['X-HTTP-Method-Override', 'GET']],
      expect: 403,
      as: 'R',
    },
    {
      category: 'method',
      name: 'override GET->DELETE with read token',
      method: 'GET',
      target: '/probe',
      headers: [bearer('R'), ['X-HTTP-Method-Override', 'DELETE']],
      expect: 200,
      as: 'R',
    },
    {
      category: 'method',
      name: 'X-HTTP-Method header',
      method: 'POST',
      target: '/probe',
      headers: [bearer('R'), ['X-HTTP-Method', 'GET']],
      expect: 403,
      as: 'R',
    },
    { category: 'method', name: '_method query', method: 'POST', target: '/probe?_method=GET', headers: [bearer('R')], expect: 403, as: 'R' },
    { category: 'method', name: 'TRACE', method: 'TRACE', target: '/pty', headers: [bearer('RWX')], expect: 405 },
    { category: 'method', name: 'PROPFIND', method: 'PROPFIND', target: '/probe', headers: [bearer('RWX')], expect: 405 },
    { category: 'method', name: 'MKCOL', method: 'MKCOL', target: '/probe', headers: [bearer('RWX')], expect: 405 },
    // Node closes a CONNECT it has no handler for without answering (status 0 here).
    { category: 'method', name: 'CONNECT', method: 'CONNECT', target: '127.0.0.1:1', headers: [bearer('RWX')], expect: [0, 400, 405] },
    { category: 'method', name: 'unknown FOO', method: 'FOO', target: '/probe', headers: [bearer('RWX')], expect: 400 },
    { category: 'method', name: 'HEAD on /pty, read token', method: 'HEAD', target: '/pty', headers: [bearer('R')], expect: 403, as: 'R' },
    { category: 'method', name: 'HEAD on /session, read+write', method: 'HEAD', target: '/session', headers: [bearer('RW')], expect: 403, as: 'RW' },
    { category: 'method', name: 'OPTIONS on /pty, read token', method: 'OPTIONS', target: '/pty', headers: [bearer('R')], expect: 403, as: 'R' },
    { category: 'method', name: 'OPTIONS on /message, no token', method: 'OPTIONS', target: '/message', expect: 401 },
    {
      category: 'method',
      name: 'preflight-looking OPTIONS from no allowed origin',
      method: 'OPTIONS',
      target: '/pty',
      headers: [
        ['Origin', 'https://evil.example'],
        ['Access-Control-Request-Method', 'POST'],
      ],
      expect: 403,
    },
    { category: 'method', name: 'POST /pty with execute-only token', method: 'POST', target: '/pty', headers: [bearer('X')], expect: 403, as: 'X' },
    { category: 'method', name: 'GET /pty with execute-only token', target: '/pty', headers: [bearer('X')], expect: 403, as: 'X' },
    { category: 'method', name: 'DELETE /session/x, read+write', method: 'DELETE', target: '/session/x', headers: [bearer('RW')], expect: 403, as: 'RW' },
    {
      category: 'method',
      name: 'upgrade on a read route, read+write',
      target: '/probe',
      headers: [
        bearer('RW'),
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ['Sec-WebSocket-Version', '13'],
      ],
      expect: 403,
      as: 'RW',
    },
    {
      category: 'method',
      name: 'non-websocket upgrade',
      target: '/probe',
      headers: [bearer('RWX'), ['Upgrade', 'h2c'], ['Connection', 'Upgrade']],
      expect: 400,
    },
  ];
}

function credentialVariants(): Variant[] {
  const rwx = T.RWX.token;
  const r = T.R.token;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const unknown = generateToken();
  const v = (name: string, headers: [string, string][], expect: number, target = '/pty', as?: keyof typeof T): Variant => ({
    category: 'credential',
    name,
    target,
    headers,
    expect,
    as,
  });
  return [
    v('valid bearer', [['Authorization', `Bearer ${rwx}`]], 200, '/pty', 'RWX'),
    v('scheme in upper case', [['Authorization', `BEARER ${rwx}`]], 200, '/pty', 'RWX'),
    v('two spaces after scheme', [['Authorization', `Bearer  ${rwx}`]], 200, '/pty', 'RWX'),
    v('trailing spaces', [['Authorization', `Bearer ${rwx}   `]], 200, '/pty', 'RWX'),
    v('tab instead of space', [['Authorization', `Bearer\t${rwx}`]], 401),
    v('no scheme', [['Authorization', rwx]], 401),
    v('scheme with colon', [['Authorization', `Bearer: ${rwx}`]], 401),
    v('Token scheme', [['Authorization', `Token ${rwx}`]], 401),
    v('Bearer and Basic in one header', [['Authorization', `Bearer ${rwx}, Basic ${b64(`x:${rwx}`)}`]], 401),
    v('two bearer tokens in one header', [['Authorization', `Bearer ${r} ${rwx}`]], 401),
    // Both values arrive joined ("Bearer A, Bearer B"): malformed, never the stronger one.
    v(
      'two Authorization headers',
      [
        ['Authorization', `Bearer ${r}`],
        ['Authorization', `Bearer ${rwx}`],
      ],
      401,
    ),
    v(
      'two Authorization headers, strong first',
      [
        ['Authorization', `Bearer ${rwx}`],
        ['Authorization', `Bearer ${r}`],
      ],
      401,
    ),
    v('valid checksum, unknown token', [['Authorization', `Bearer ${unknown}`]], 401),
    v('truncated token', [['Authorization', `Bearer ${rwx.slice(0, -1)}`]], 401),
    v('padded token', [['Authorization', `Bearer ${rwx}x`]], 401),
    v('token with a NUL-free control char', [['Authorization', `Bearer ${rwx.slice(0, 10)}\x01${rwx.slice(11)}`]], 400),
    v('lower-cased token', [['Authorization', `Bearer ${rwx.toLowerCase()}`]], 401),
    v('Basic, token as password', [['Authorization', `Basic ${b64(`me:${rwx}`)}`]], 200, '/pty', 'RWX'),
    v('Basic, token as user name', [['Authorization', `Basic ${b64(`${rwx}:`)}`]], 401),
    v('Basic, not base64', [['Authorization', 'Basic ***']], 401),
    v('Basic, no colon', [['Authorization', `Basic ${b64(rwx)}`]], 401),
    // A token in a URL is refused outright (400), even beside a valid header.
    v('token in query', [], 400, `/pty?token=${rwx}`),
    v('token in access_token query', [], 400, `/pty?access_token=${rwx}`),
    v('token in query beside a valid header', [['Authorization', `Bearer ${rwx}`]], 400, `/pty?token=${rwx}`),
    v('token in a fragment', [], 401, `/pty#${rwx}`),
    v('token in a cookie', [['Cookie', `token=${rwx}`]], 401),
    v('token in a forged session cookie', [['Cookie', `tether_session=${rwx}`]], 401),
    v('token in X-Auth-Token', [['X-Auth-Token', rwx]], 401),
    v('token in Proxy-Authorization', [['Proxy-Authorization', `Bearer ${rwx}`]], 401),
    v('token in the WebSocket protocol of a non-upgrade request', [['Sec-WebSocket-Protocol', `tether, tether.auth.${rwx}`]], 401),
    v('empty Authorization', [['Authorization', '']], 401),
    v('huge Authorization', [['Authorization', `Bearer ${'a'.repeat(6000)}`]], 401),
  ];
}

function hostOriginVariants(): Variant[] {
  const ok: [string, string] = ['Authorization', `Bearer ${T.RWX.token}`];
  const h = (name: string, host: string, expect: number): Variant => ({
    category: 'host-origin',
    name: `Host ${name}`,
    target: '/probe',
    headers: [['Host', host], ok],
    expect,
    as: expect === 200 ? 'RWX' : undefined,
  });
  const hx = (name: string, host: string): Variant => ({
    category: 'host-origin',
    name: `Host ${name}`,
    target: '/probe',
    headers: [['Host', host], ok],
    expect: [400, 403],
  });
  const o = (name: string, origin: string, expect: number, method = 'GET'): Variant => ({
    category: 'host-origin',
    name: `Origin ${name}`,
    method,
    target: '/probe',
    headers: [['Origin', origin], ok],
    expect,
    as: expect === 200 ? 'RWX' : undefined,
  });
  return [
    h('localhost', `localhost:${port}`, 200),
    h('LOCALHOST', `LOCALHOST:${port}`, 200),
    h('localhost with trailing dot', `localhost.:${port}`, 200),
    h('[::1]', `[::1]:${port}`, 200),
    h('127.0.0.1 without port', '127.0.0.1', 200),
    h('evil.example', `evil.example:${port}`, 403),
    h('localhost.evil.example', `localhost.evil.example:${port}`, 403),
    h('127.0.0.1.nip.io', `127.0.0.1.nip.io:${port}`, 403),
    h('decimal IP 2130706433', `2130706433:${port}`, 403),
    h('hex IP 0x7f000001', `0x7f000001:${port}`, 403),
    h('short IP 127.1', `127.1:${port}`, 403),
    // Hosts that are not even valid URL authorities are refused by the adapter (400) or by us (403).
    hx('mapped IPv6', `[::ffff:127.0.0.1]:${port}`),
    hx('userinfo trick', `localhost:${port}@evil.example`),
    hx('with a path', `localhost/evil`),
    hx('empty', ''),
    hx('with space', `local host:${port}`),
    {
      category: 'host-origin',
      name: 'two Host headers',
      target: '/probe',
      headers: [['Host', `127.0.0.1:${port}`], ['Host', 'evil.example'], ok],
      expect: [400, 403],
    },
    {
      category: 'host-origin',
      name: 'X-Forwarded-Host ignored',
      target: '/probe',
      headers: [['X-Forwarded-Host', 'evil.example'], ok],
      expect: 200,
      as: 'RWX',
    },
    { category: 'host-origin', name: 'absolute-form target to another host', target: 'http://evil.example/pty', headers: [bearer('R')], expect: 403, as: 'R' },
    o('evil.example', 'https://evil.example', 403),
    o('null', 'null', 403),
    o('same host, other port', 'http://127.0.0.1:1', 403),
    o('same host, https', `https://127.0.0.1:${port}`, 403),
    o('suffix of trusted', 'https://trusted.example.evil', 403),
    o('trusted with path', 'https://trusted.example/', 403),
    o('trusted', 'https://trusted.example', 200),
    o('own origin', `http://127.0.0.1:${port}`, 200),
    o('evil, POST', 'https://evil.example', 403, 'POST'),
  ];
}

describe('adversarial HTTP variants', () => {
  let all: Variant[] = [];
  beforeAll(() => {
    all = [...pathVariants(), ...methodVariants(), ...credentialVariants(), ...hostOriginVariants()];
  });

  it('at least 150 variants, each with its expected outcome, none reaching a handler it is not entitled to', async () => {
    expect(all.length).toBeGreaterThanOrEqual(150);
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    for (const v of all) {
      counts[v.category] = (counts[v.category] ?? 0) + 1;
      const before = hits.length;
      let status: number;
      try {
        status = (await rawRequest(port, build(v))).status;
      } catch (err) {
        failures.push(`[${v.category}] ${v.name}: ${String(err)}`);
        continue;
      }
      const want = Array.isArray(v.expect) ? v.expect : [v.expect];
      if (!want.includes(status)) failures.push(`[${v.category}] ${v.name}: got ${status}, want ${want.join(' or ')}`);
      const reached = hits.slice(before);
      for (const hit of reached) {
        const tok = v.as ? T[v.as] : undefined;
        if (!tok) {
          failures.push(`[${v.category}] ${v.name}: reached ${hit.method} ${hit.path} without a token`);
          continue;
        }
        const need = requiredPermissions({ method: hit.method === 'HEAD' ? 'GET' : hit.method, path: hit.path, upgrade: false });
        if (need.kind === 'requires' && !need.permissions.every((p) => tok.perms.includes(p))) {
          failures.push(`[${v.category}] ${v.name}: reached ${hit.method} ${hit.path} with only ${tok.perms.join(',')}`);
        }
        if (hit.tokenId === null) failures.push(`[${v.category}] ${v.name}: handler saw no token`);
      }
    }
    console.log(
      `adversarial variants tried: ${all.length} (${Object.entries(counts)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
    );
    expect(failures).toEqual([]);
  }, 120_000);
});
