// Last-use tracking (src/server/last-used.ts): each token's first use is written about a second
// later, then at most once a minute per token, with the address it came from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createToken, listTokens } from '../../src/auth/token-admin.js';
import { silentLogger } from '../../src/log.js';
import { LastUsedTracker } from '../../src/server/last-used.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-last-used-'));
  file = path.join(dir, 'auth-tokens.json');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('LastUsedTracker', () => {
  it("another token's once-a-minute wait does not hold back a new token's first use", async () => {
    const a = await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    const b = await createToken({ name: 'b', permissions: ['read'], expiresAt: null }, file);
    const t = new LastUsedTracker(file, silentLogger, 60_000, 50, 100);
    try {
      t.touch(a.record, '10.0.0.1');
      const used = async (id: string) => (await listTokens(file)).find((x) => x.id === id)!;
      await waitFor(async () => (await used(a.record.id)).lastUsedAt !== null, { what: "a's first use" });
      // a again: its next write is a minute away. b's first use must not wait for it.
      t.touch(a.record, '10.0.0.1');
      t.touch(b.record, '10.0.0.2');
      await waitFor(async () => (await used(b.record.id)).lastUsedAt !== null, { what: "b's first use", timeout: 2000 });
      expect(await used(b.record.id)).toMatchObject({ lastUsedFrom: '10.0.0.2' });
      expect(await used(a.record.id)).toMatchObject({ lastUsedFrom: '10.0.0.1' });
    } finally {
      t.stop();
    }
  });

  it('writes the file at most once per gap in all, however many tokens are first used', async () => {
    const tokens = await Promise.all(['a', 'b', 'c'].map((name) => createToken({ name, permissions: ['read'], expiresAt: null }, file)));
    const t = new LastUsedTracker(file, silentLogger, 60_000, 10, 600);
    try {
      t.touch(tokens[0].record, '10.0.0.1');
      const used = async (id: string) => (await listTokens(file)).find((x) => x.id === id)!.lastUsedAt !== null;
      await waitFor(() => used(tokens[0].record.id), { what: 'the first write' });
      const first = fs.statSync(file).mtimeMs;
      t.touch(tokens[1].record, '10.0.0.2');
      t.touch(tokens[2].record, '10.0.0.3');
      await waitFor(async () => (await used(tokens[1].record.id)) && used(tokens[2].record.id), { what: 'the second write' });
      // Both in one write, not before the gap has passed (file times: what the disk saw).
      expect(fs.statSync(file).mtimeMs - first).toBeGreaterThanOrEqual(590);
    } finally {
      t.stop();
    }
  });

  it('records the address of the latest use, cut to the stored limit', async () => {
    const a = await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    const t = new LastUsedTracker(file, silentLogger, 60_000, 10);
    t.touch(a.record, '192.0.2.1');
    t.touch(a.record, `fe80::1%${'x'.repeat(100)}`);
    await t.flush();
    t.stop();
    const rec = (await listTokens(file))[0];
    expect(rec.lastUsedFrom).toBe(`fe80::1%${'x'.repeat(100)}`.slice(0, 64));
  });

  it('a use while a write is pending moves only its time and address (the latest of each is written)', async () => {
    const a = await createToken({ name: 'a', permissions: ['read'], expiresAt: null }, file);
    const t = new LastUsedTracker(file, silentLogger, 60_000, 10_000);
    const base = Date.parse('2026-12-01T10:00:00.000Z');
    t.touch(a.record, '192.0.2.1', base);
    t.touch(a.record, '192.0.2.2', base + 5_000);
    t.touch(a.record, '192.0.2.3', base + 9_000);
    await t.flush();
    t.stop();
    expect((await listTokens(file))[0]).toMatchObject({ lastUsedAt: new Date(base + 9_000).toISOString(), lastUsedFrom: '192.0.2.3' });
  });
});
