// LiveTokens' staleness bound (src/auth/live-tokens.ts): the view is re-checked once the interval
// has passed, and at once when the clock is set back (a backward step must not freeze the view).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveTokens } from '../../src/auth/live-tokens.js';
import { createToken, deleteTokens } from '../../src/auth/token-admin.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-live-'));
  dirs.push(dir);
  const file = path.join(dir, 'auth-tokens.json');
  const { record } = await createToken({ permissions: ['read'], expiresAt: null }, file);
  return { file, id: record.id };
}

describe('LiveTokens.current(now)', () => {
  it('keeps its view within the interval, re-reads after it, and re-reads at once when the clock goes back', async () => {
    const { file, id } = await fixture();
    const tokens = new LiveTokens({ file, maxStalenessMs: 1000 });
    const t0 = 1_000_000;
    expect(tokens.current(t0).get(id)).toBeDefined();
    await deleteTokens([id], file);
    // Within the interval: the view is not re-checked (that is the bound, and what it saves).
    expect(tokens.current(t0 + 999).get(id)).toBeDefined();
    // A clock set back: re-checked at once, not after the clock has caught up.
    expect(tokens.current(t0 - 60_000).get(id)).toBeUndefined();

    const again = await createToken({ permissions: ['read'], expiresAt: null }, file);
    expect(tokens.current(t0 - 60_000 + 500).get(again.record.id)).toBeUndefined();
    expect(tokens.current(t0 - 60_000 + 1000).get(again.record.id)).toBeDefined();
  });

  it('without an argument reads the clock itself', async () => {
    const { file, id } = await fixture();
    const tokens = new LiveTokens({ file, maxStalenessMs: 0 });
    expect(tokens.current().get(id)).toBeDefined();
    await deleteTokens([id], file);
    expect(tokens.current().get(id)).toBeUndefined();
  });
});
