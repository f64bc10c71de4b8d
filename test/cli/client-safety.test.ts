// The client's transport rules in-process (src/client): which hosts count as this machine, plain
// HTTP refused without the opt-in, no redirects, bounded bodies and events, where the opt-in comes from.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TetherClient } from '../../src/client/client.js';
import { saveCredential } from '../../src/client/saved-credentials.js';
import { PlainHttpError, ProtocolError, RedirectError } from '../../src/client/errors.js';
import { isLoopbackUrl, isPlainHttpToNetwork } from '../../src/client/loopback.js';
import { resolveTarget } from '../../src/client/resolve.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';
import { EVIL, session, startHostileServer, whoami, type HostileServer } from '../helpers/hostile-server.js';

describe('isLoopbackUrl', () => {
  const loopback = [
    'http://127.0.0.1:4096',
    'http://127.1',
    'http://0x7f.0.0.1',
    'http://2130706433',
    'http://127.255.255.254:1',
    'http://localhost:4096',
    'http://LOCALHOST',
    'http://[::1]:4096',
    'http://[0:0:0:0:0:0:0:1]',
    'http://[::ffff:127.0.0.1]',
    'ws://127.0.0.1',
  ];
  const network = [
    'http://0.0.0.0:4096',
    'http://[::]:4096',
    'http://192.0.2.1',
    'http://10.0.0.1',
    'http://128.0.0.1',
    'http://126.255.255.255',
    'http://localhost.',
    'http://a.localhost',
    'http://localhost.example.com',
    'http://127.0.0.1.example.com',
    'http://[::2]',
    'http://[::ffff:10.0.0.1]',
    'http://[::ffff:127.0.0.1].evil',
    'not a url',
  ];
  for (const u of loopback) it(`${u} is this machine`, () => expect(isLoopbackUrl(u)).toBe(true));
  for (const u of network) it(`${u} is not`, () => expect(isLoopbackUrl(u)).toBe(false));

  it('plain HTTP to the network: only http: to a non-loopback host', () => {
    expect(isPlainHttpToNetwork('http://192.0.2.1')).toBe(true);
    expect(isPlainHttpToNetwork('https://192.0.2.1')).toBe(false);
    expect(isPlainHttpToNetwork('http://127.0.0.1')).toBe(false);
  });
});

/** A fetch that records what it was asked and answers with `reply`. No network. */
function stubFetch(reply: () => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = ((url: URL | string, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    return Promise.resolve(reply());
  }) as typeof fetch;
  return { f, calls };
}

const json = (v: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(v), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('TetherClient transport rules', () => {
  it('refuses plain http to another host unless allowHttp; loopback and https need nothing', () => {
    for (const url of ['http://192.0.2.1:4096', 'http://0.0.0.0:1', 'http://a.localhost:1']) {
      expect(() => new TetherClient({ url, token: 'x' })).toThrow(PlainHttpError);
      expect(() => new TetherClient({ url, token: 'x' })).toThrow(/--allow-http/);
      expect(() => new TetherClient({ url, token: 'x', allowHttp: true })).not.toThrow();
    }
    expect(() => new TetherClient({ url: 'https://192.0.2.1', token: 'x' })).not.toThrow();
    expect(() => new TetherClient({ url: 'http://127.0.0.1:1', token: 'x' })).not.toThrow();
  });

  it('every request is sent with redirect: manual, streamed ones too', async () => {
    const { f, calls } = stubFetch(() => json(whoami()));
    const c = new TetherClient({ url: 'http://192.0.2.1:4096', token: 'tok', allowHttp: true, fetch: f });
    await c.whoami();
    await c.listPtys().catch(() => {});
    await c.sendMessage('ses_x', 'hi', () => {}).catch(() => {});
    expect(calls.length).toBe(3);
    for (const call of calls) expect(call.init.redirect).toBe('manual');
    expect(calls[0].url).toBe('http://192.0.2.1:4096/auth/whoami');
  });

  it('a 3xx is a RedirectError naming the Location, even one fetch would otherwise follow', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const { f } = stubFetch(() => new Response('moved', { status, headers: { location: 'http://127.0.0.1:9/x' } }));
      const c = new TetherClient({ url: 'http://127.0.0.1:1', token: 't', fetch: f });
      const err = await c.createSession({}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedirectError);
      expect((err as RedirectError).location).toBe('http://127.0.0.1:9/x');
      expect((err as Error).message).toMatch(new RegExp(`answered ${status}, redirecting to http://127\\.0\\.0\\.1:9/x`));
    }
  });

  describe('against a server that never stops sending', () => {
    let s: HostileServer;
    afterEach(() => s.close());

    it('a JSON body beyond the limit is a ProtocolError, not an ever-growing buffer', async () => {
      s = await startHostileServer({ routes: { 'GET /auth/whoami': () => ({ endless: `"${EVIL}` }) } });
      const c = new TetherClient({ url: s.url, token: 't', limits: { jsonBytes: 1024 * 1024 } });
      await expect(c.whoami()).rejects.toThrow(ProtocolError);
      await expect(c.whoami()).rejects.toThrow(/larger than 1048576 bytes/);
    });

    it('an event beyond the limit ends the stream with a ProtocolError', async () => {
      s = await startHostileServer({
        routes: { 'POST /session/ses_x/message': () => ({ endless: `data: ${JSON.stringify(EVIL)}`, headers: { 'content-type': 'text/event-stream' } }) },
      });
      const c = new TetherClient({ url: s.url, token: 't', limits: { sseEventChars: 1024 * 1024 } });
      await expect(c.sendMessage('ses_x', 'hi', () => {})).rejects.toThrow(/longer than 1048576 characters/);
    });

    it('the limits can only be lowered', async () => {
      s = await startHostileServer({ routes: { 'POST /session': () => ({ body: session() }) } });
      const c = new TetherClient({ url: s.url, token: 't', limits: { jsonBytes: Number.MAX_SAFE_INTEGER } });
      expect((c as unknown as { maxJsonBytes: number }).maxJsonBytes).toBe(256 * 1024 * 1024);
    });
  });
});

describe('resolveTarget: where the plain-HTTP opt-in comes from', () => {
  let t: TempEnv;
  const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  beforeEach(() => {
    t = tempEnv();
    process.env.XDG_CONFIG_HOME = t.configHome;
  });
  afterEach(() => {
    if (saved.XDG_CONFIG_HOME === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
    t.cleanup();
  });
  const env = (o: Record<string, string> = {}) => ({ TETHER_URL: '', TETHER_TOKEN: '', ...o });

  it('the flag, or the saved entry of that server (whichever token is used); nothing else', async () => {
    await saveCredential('http://192.0.2.1:4096', { token: 'saved', tokenId: null, name: 'n', savedAt: 'now', allowHttp: true });
    expect(await resolveTarget({ url: 'http://192.0.2.1:4096' }, env())).toMatchObject({ token: 'saved', tokenSource: 'credentials', allowHttp: true });
    expect(await resolveTarget({ url: 'http://192.0.2.1:4096', token: 'flag' }, env())).toMatchObject({ token: 'flag', allowHttp: true });
    expect(await resolveTarget({ url: 'http://192.0.2.1:4096' }, env({ TETHER_TOKEN: 'env' }))).toMatchObject({ token: 'env', allowHttp: true });
    expect(await resolveTarget({ url: 'http://192.0.2.1:4097', token: 'flag' }, env())).toMatchObject({ allowHttp: false });
    expect(await resolveTarget({ url: 'http://192.0.2.1:4097', token: 'flag', allowHttp: true }, env())).toMatchObject({ allowHttp: true });
  });

  it('with an explicit token for a loopback server, a broken credentials file is not read', async () => {
    const file = path.join(t.configHome, 'tether', 'credentials.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{ broken');
    expect(await resolveTarget({ url: 'http://127.0.0.1:4096', token: 'flag' }, env())).toMatchObject({ token: 'flag', tokenSource: 'flag' });
    await expect(resolveTarget({ url: 'http://127.0.0.1:4096' }, env())).rejects.toThrow(/not valid JSON/);
  });
});
