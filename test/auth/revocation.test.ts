// Revocation reaches every server by rule (src/auth/revocation.ts): a server's view of the token
// file is at most MAX_STALENESS_MS old, and a write that takes anything away returns only after that.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveTokens } from '../../src/auth/live-tokens.js';
import { MAX_STALENESS_MS, REVOCATION_SETTLE_MS, settle, takesAway } from '../../src/auth/revocation.js';
import { createToken, deleteTokens, recordLastUsed } from '../../src/auth/token-admin.js';
import { updateTokenFile } from '../../src/auth/token-file.js';
import type { TokenRecord } from '../../src/auth/shapes.js';
import type { TokenFile } from '../../src/auth/token-record.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';

const envs: TempEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.cleanup();
});

const rec = (id: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
  id,
  name: `n-${id}`,
  hash: 'a'.repeat(64),
  permissions: ['read', 'write'],
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  lastUsedAt: null,
  ...extra,
});
const file = (...tokens: TokenRecord[]): TokenFile => ({ version: 2, tokens });

describe('takesAway', () => {
  const a = rec('tok_000000000a', { scopes: ['/p/a'] });
  const b = rec('tok_000000000b');
  const takes: [string, TokenFile][] = [
    ['a token deleted', file(b)],
    ['every token deleted', file()],
    ['a permission dropped', file({ ...a, permissions: ['read'] }, b)],
    ['a permission added (the record changed: wait anyway)', file({ ...a, permissions: ['read', 'write', 'execute'] }, b)],
    ['a scope changed', file({ ...a, scopes: ['/p/b'] }, b)],
    ['scopes removed', file({ ...a, scopes: undefined }, b)],
    ['an expiry set', file({ ...a, expiresAt: '2027-01-01T00:00:00.000Z' }, b)],
    ['a hash changed (a refresh token rotated)', file(a, { ...b, hash: 'b'.repeat(64) })],
    ['a share target changed', file(a, { ...b, kind: 'share', target: { type: 'pty', id: 'x' } })],
    ['a rename', file({ ...a, name: 'other' }, b)],
    ['the same id, another token', file(rec('tok_000000000a'), b)],
  ];
  for (const [what, after] of takes) it(`true: ${what}`, () => expect(takesAway(file(a, b), after)).toBe(true));

  const keeps: [string, TokenFile][] = [
    ['nothing changed', file(a, b)],
    ['the same records, keys and tokens in another order', file(b, Object.fromEntries(Object.entries(a).reverse()) as TokenRecord)],
    ['a token added', file(a, b, rec('tok_000000000c'))],
    ['last use recorded', file({ ...a, lastUsedAt: '2026-06-01T00:00:00.000Z', lastUsedFrom: '127.0.0.1' }, b)],
  ];
  for (const [what, after] of keeps) it(`false: ${what}`, () => expect(takesAway(file(a, b), after)).toBe(false));
});

describe('settle', () => {
  it('waits at least the time asked for on the monotonic clock, and the default covers the interval', async () => {
    expect(REVOCATION_SETTLE_MS).toBeGreaterThan(MAX_STALENESS_MS);
    for (const ms of [1, 7, 30]) {
      const t0 = performance.now();
      await settle(ms);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(ms);
    }
  });
});

describe('a revoking write returns only after every view is due a re-check', () => {
  it('delete: returns at least the interval after the new file landed, and a view checked just before it sees the delete', async () => {
    const t = tempEnv('tether-revoke-');
    envs.push(t);
    const { record } = await createToken({ permissions: ['read'], expiresAt: null }, t.tokenFile);
    const view = new LiveTokens({ file: t.tokenFile });
    // A check just before the delete: with no wait, the view could keep the token for the interval.
    expect(view.current().get(record.id)).toBeDefined();
    await deleteTokens([record.id], t.tokenFile);
    const landed = fs.statSync(t.tokenFile).mtimeMs;
    expect(Date.now() - landed).toBeGreaterThanOrEqual(MAX_STALENESS_MS);
    expect(view.current().get(record.id)).toBeUndefined();
  });

  it('a permission narrowed by hand through updateTokenFile waits the same way; a last-use write and a create do not take anything away', async () => {
    const t = tempEnv('tether-revoke-');
    envs.push(t);
    const { record } = await createToken({ permissions: ['read', 'write'], expiresAt: null }, t.tokenFile);
    await updateTokenFile(t.tokenFile, (data) => ({
      data: { ...data, tokens: data.tokens.map((r) => ({ ...r, permissions: ['read' as const] })) },
      result: null,
    }));
    expect(Date.now() - fs.statSync(t.tokenFile).mtimeMs).toBeGreaterThanOrEqual(MAX_STALENESS_MS);
    // The rule these writes go by (the wait itself is the pure decision above).
    const before = JSON.parse(fs.readFileSync(t.tokenFile, 'utf8')) as TokenFile;
    await recordLastUsed(new Map([[record.id, new Date().toISOString()]]), t.tokenFile);
    await createToken({ permissions: ['read'], expiresAt: null }, t.tokenFile);
    expect(takesAway(before, JSON.parse(fs.readFileSync(t.tokenFile, 'utf8')) as TokenFile)).toBe(false);
  });
});
