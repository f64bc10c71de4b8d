import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTokenFile, readTokenFileSync, updateTokenFile } from '../../src/auth/token-file.js';
import { createToken, deleteTokens, listTokens, recordLastUsed } from '../../src/auth/token-admin.js';
import { StoreError } from '../../src/errors.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';

let t: TempEnv;
let file: string;
beforeEach(() => {
  t = tempEnv();
  file = t.tokenFile;
});
afterEach(() => t.cleanup());

const all = ['read', 'write', 'execute'] as const;

describe('token store', () => {
  it('a missing file is an empty store', async () => {
    expect(await readTokenFile(file)).toEqual({ version: 2, tokens: [] });
    expect(readTokenFileSync(file).stamp).toBeNull();
  });

  it('reads a version 1 file as before and upgrades it to version 2 on the next change, losing nothing', async () => {
    const v1 = {
      version: 1,
      tokens: [
        {
          id: 'tok_0000000001',
          name: 'old',
          hash: 'b'.repeat(64),
          permissions: ['read'],
          createdAt: '2026-01-01T00:00:00.000Z',
          expiresAt: null,
          lastUsedAt: null,
        },
      ],
    };
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(v1), { mode: 0o600 });
    expect(await readTokenFile(file)).toEqual(v1);
    await createToken({ name: 'new', permissions: ['read'], expiresAt: null }, file);
    const after = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; tokens: { name: string }[] };
    expect(after.version).toBe(2);
    expect(after.tokens[0]).toEqual(v1.tokens[0]);
    expect(after.tokens.map((t) => t.name)).toEqual(['old', 'new']);
  });

  it('creates the directory 0700 and the file 0600, without the secret', async () => {
    const { token } = await createToken({ name: 'a', permissions: [...all], expiresAt: null }, file);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(7, 29));
  });

  it('warns about a file others can read and fixes it on the next write', async () => {
    await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    fs.chmodSync(file, 0o644);
    const warnings: string[] = [];
    await readTokenFile(file, (m) => warnings.push(m));
    expect(warnings.join()).toMatch(/accessible by other users \(mode 0644\)/);
    await updateTokenFile(file, (data) => ({ data, result: null }), { warn: () => {} });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('tightens a loose directory on write', async () => {
    fs.mkdirSync(path.dirname(file), { mode: 0o755 });
    fs.chmodSync(path.dirname(file), 0o755);
    await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  const broken: [string, string, RegExp][] = [
    ['not JSON', '{"version": 1, "tokens": [', /not valid JSON/],
    ['empty file', '', /not valid JSON/],
    ['future version', '{"version": 3, "tokens": []}', /version 3.*only versions 1 and 2/],
    [
      'version 1 with a version 2 field',
      `{"version": 1, "tokens": [${JSON.stringify({ id: 'tok_0000000000', name: 'a', hash: 'a'.repeat(64), permissions: ['read'], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null, scopes: ['/tmp'] })}]}`,
      /unknown field "scopes"/,
    ],
    [
      'share token without target',
      `{"version": 2, "tokens": [${JSON.stringify({ id: 'tok_0000000000', name: 'a', hash: 'a'.repeat(64), permissions: ['read'], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null, kind: 'share' })}]}`,
      /without a "target"/,
    ],
    [
      'writable share token',
      `{"version": 2, "tokens": [${JSON.stringify({ id: 'tok_0000000000', name: 'a', hash: 'a'.repeat(64), permissions: ['read', 'write'], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null, kind: 'share', target: { type: 'pty', id: 'p1' } })}]}`,
      /permissions other than read/,
    ],
    [
      'relative scope',
      `{"version": 2, "tokens": [${JSON.stringify({ id: 'tok_0000000000', name: 'a', hash: 'a'.repeat(64), permissions: ['read'], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null, scopes: ['src'] })}]}`,
      /invalid "scopes"/,
    ],
    ['no version', '{"tokens": []}', /no "version"/],
    ['tokens not a list', '{"version": 1, "tokens": {}}', /"tokens" is not an array/],
    ['bad record', '{"version": 1, "tokens": [{"id": "tok_0000000000"}]}', /record #1/],
    [
      'unknown field',
      JSON.stringify({
        version: 1,
        tokens: [
          {
            id: 'tok_0000000000',
            name: 'a',
            hash: 'a'.repeat(64),
            permissions: ['read'],
            createdAt: '2026-01-01T00:00:00Z',
            expiresAt: null,
            lastUsedAt: null,
            secret: 'x',
          },
        ],
      }),
      /unknown field "secret"/,
    ],
    [
      'empty permissions',
      JSON.stringify({
        version: 1,
        tokens: [
          { id: 'tok_0000000000', name: 'a', hash: 'a'.repeat(64), permissions: [], createdAt: '2026-01-01T00:00:00Z', expiresAt: null, lastUsedAt: null },
        ],
      }),
      /permissions/,
    ],
    ['array top level', '[]', /not a JSON object/],
  ];
  for (const [what, content, msg] of broken) {
    it(`refuses a ${what} file by name and leaves it byte-identical`, async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, content, { mode: 0o600 });
      await expect(readTokenFile(file)).rejects.toThrow(StoreError);
      await expect(readTokenFile(file)).rejects.toThrow(file);
      await expect(readTokenFile(file)).rejects.toThrow(msg);
      expect(() => readTokenFileSync(file)).toThrow(msg);
      await expect(createToken({ name: 'x', permissions: ['read'], expiresAt: null }, file)).rejects.toThrow(msg);
      await expect(deleteTokens(['x'], file)).rejects.toThrow(msg);
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
    });
  }

  it('an unreadable file is an error, not an empty store', async () => {
    fs.mkdirSync(file, { recursive: true }); // a directory where the file should be: EISDIR
    await expect(readTokenFile(file)).rejects.toThrow(/cannot read token file/);
    expect(() => readTokenFileSync(file)).toThrow(/cannot read token file/);
  });

  it('a mutation that throws writes nothing', async () => {
    await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    const before = fs.readFileSync(file);
    await expect(
      updateTokenFile(file, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(updateTokenFile(file, (d) => ({ data: { ...d, tokens: [{ ...d.tokens[0], kind: 'share' }] }, result: 0 }))).rejects.toThrow(
      /invalid token file/,
    );
    expect(fs.readFileSync(file)).toEqual(before);
  });

  it('concurrent in-process updates lose nothing', async () => {
    await Promise.all(Array.from({ length: 25 }, (_, i) => createToken({ name: `c${i}`, permissions: ['read'], expiresAt: null }, file)));
    expect((await listTokens(file)).map((t) => t.name).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `c${i}`).sort());
  });

  it('generated names are unique; duplicate names are refused', async () => {
    const a = await createToken({ permissions: ['read'], expiresAt: null }, file);
    const b = await createToken({ permissions: ['read'], expiresAt: null }, file);
    expect(a.record.name).not.toBe(b.record.name);
    await expect(createToken({ name: a.record.name, permissions: ['read'], expiresAt: null }, file)).rejects.toThrow(/already exists/);
    await expect(createToken({ name: 'tok_abc', permissions: ['read'], expiresAt: null }, file)).rejects.toThrow(/invalid token name/);
    await expect(createToken({ name: '../x', permissions: ['read'], expiresAt: null }, file)).rejects.toThrow(/invalid token name/);
  });

  it('delete is all-or-nothing', async () => {
    const a = await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    await createToken({ name: 'b', permissions: ['read'], expiresAt: null }, file);
    await expect(deleteTokens(['a', 'nope'], file)).rejects.toThrow(/"nope".*nothing was deleted/);
    expect((await listTokens(file)).length).toBe(2);
    await deleteTokens([a.record.id, 'b'], file);
    expect(await listTokens(file)).toEqual([]);
  });

  it('recordLastUsed never resurrects a deleted token', async () => {
    const a = await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    const b = await createToken({ name: 'b', permissions: ['read'], expiresAt: null }, file);
    await deleteTokens(['a'], file);
    const at = new Date().toISOString();
    await recordLastUsed(
      new Map([
        [a.record.id, at],
        [b.record.id, at],
      ]),
      file,
    );
    const list = await listTokens(file);
    expect(list.map((t) => [t.name, t.lastUsedAt])).toEqual([['b', at]]);
  });

  it('list reports status and never the hash', async () => {
    await createToken({ name: 'live', permissions: ['read'], expiresAt: new Date(Date.now() + 60_000).toISOString() }, file);
    await createToken({ name: 'old', permissions: ['read'], expiresAt: new Date(Date.now() + 60_000).toISOString() }, file);
    const list = await listTokens(file, Date.now() + 120_000);
    expect(list.map((t) => t.status)).toEqual(['expired', 'expired']);
    expect((await listTokens(file)).map((t) => t.status)).toEqual(['active', 'active']);
    expect(JSON.stringify(list)).not.toMatch(/hash/);
  });
});
