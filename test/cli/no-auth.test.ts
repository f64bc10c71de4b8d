// --no-auth is decided by addresses, never by names: what the host name resolves to, then the
// address listen() actually bound.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { noAuthRefusal } from '../../src/server/hosts.js';

const bound = { address: '127.0.0.1', close: vi.fn(() => Promise.resolve()) };
vi.mock('../../src/server/server.js', () => ({
  startServer: vi.fn(() => Promise.resolve({ url: 'http://x', port: 1, address: bound.address, close: bound.close, ctx: { projectDir: '/' } })),
}));
vi.mock('../../src/server/routes/index.js', () => ({ productionRegistrars: () => Promise.resolve([]) }));

const { checkNoAuthHost, serveCommand } = await import('../../src/cli/serve.js');

const resolvesTo =
  (...addresses: string[]) =>
  () =>
    Promise.resolve(addresses.map((address) => ({ address })));

async function refusal(p: Promise<unknown>): Promise<UsageError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).exitCode).toBe(2);
  return err as UsageError;
}

describe('noAuthRefusal (pure)', () => {
  it('allows only when every resolved address is loopback', () => {
    expect(noAuthRefusal('localhost', ['127.0.0.1', '::1'])).toBeNull();
    expect(noAuthRefusal('127.0.0.2', ['127.0.0.2'])).toBeNull();
    expect(noAuthRefusal('x', ['::ffff:127.0.0.1'])).toBeNull();
    expect(noAuthRefusal('localhost', ['127.0.0.1', '192.168.1.9'])).toMatch(/resolves to 192\.168\.1\.9/);
    expect(noAuthRefusal('0.0.0.0', ['0.0.0.0'])).toMatch(/--no-auth is refused with --hostname 0\.0\.0\.0: anyone/);
    expect(noAuthRefusal('::', ['::'])).toMatch(/refused/);
    expect(noAuthRefusal('nothing', [])).toMatch(/resolves to no address/);
  });
});

describe('checkNoAuthHost', () => {
  it('a *.localhost name that resolves to a LAN address is refused; the name earns nothing', async () => {
    const e = await refusal(checkNoAuthHost('evil.localhost', resolvesTo('192.168.1.5')));
    expect(e.message).toMatch(/--no-auth is refused with --hostname evil\.localhost \(it resolves to 192\.168\.1\.5\)/);
    await refusal(checkNoAuthHost('localhost', resolvesTo('10.1.1.1')));
  });

  it('one non-loopback address among loopback ones is enough to refuse', async () => {
    const e = await refusal(checkNoAuthHost('dual', resolvesTo('127.0.0.1', '2001:db8::5')));
    expect(e.message).toContain('2001:db8::5');
  });

  it('a name that does not resolve is refused, naming why', async () => {
    const e = await refusal(
      checkNoAuthHost('nowhere.invalid', async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))),
    );
    expect(e.message).toMatch(/does not resolve \(ENOTFOUND\)/);
  });

  it('names resolving only to loopback are accepted, with the real resolver too', async () => {
    await expect(checkNoAuthHost('anything', resolvesTo('127.0.0.1', '::1'))).resolves.toBeUndefined();
    await expect(checkNoAuthHost('localhost')).resolves.toBeUndefined();
    await expect(checkNoAuthHost('127.0.0.1')).resolves.toBeUndefined();
    await refusal(checkNoAuthHost('0.0.0.0'));
  });
});

describe('serve --no-auth checks the bound address', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-noauth-'));
    bound.close.mockClear();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const opts = () => ({ port: '0', hostname: '127.0.0.1', project: dir, auth: false });

  it('closes the server and exits 2 when listen() bound a non-loopback address', async () => {
    bound.address = '192.0.2.7';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const e = await refusal(serveCommand(opts(), 'test'));
      expect(e.message).toMatch(/bound to 192\.0\.2\.7, which is not a loopback address/);
      expect(bound.close).toHaveBeenCalledTimes(1);
      expect(write.mock.calls.map((c) => String(c[0])).join('')).not.toMatch(/listening on/);
    } finally {
      write.mockRestore();
    }
  });
});
