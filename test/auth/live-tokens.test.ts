// LiveTokens' staleness bound (src/auth/live-tokens.ts): the view is re-checked once the interval
// has passed, and at once when the clock is set back (a backward step must not freeze the view).
import { afterEach, describe, expect, it } from 'vitest';
import { LiveTokens } from '../../src/auth/live-tokens.js';
import { createToken, deleteTokens } from '../../src/auth/token-admin.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';

const envs: TempEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.cleanup();
});

async function fixture() {
  const t = tempEnv('tether-live-');
  envs.push(t);
  const { record } = await createToken({ permissions: ['read'], expiresAt: null }, t.tokenFile);
  return { file: t.tokenFile, id: record.id };
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

  it('fresh() re-checks the file whatever the interval (the paths that decide outside the guard)', async () => {
    const { file, id } = await fixture();
    const tokens = new LiveTokens({ file, maxStalenessMs: 60_000 });
    expect(tokens.current().get(id)).toBeDefined();
    const made = await createToken({ permissions: ['read'], expiresAt: null }, file);
    expect(tokens.current().get(made.record.id)).toBeUndefined();
    expect(tokens.fresh().get(made.record.id)).toBeDefined();
    await deleteTokens([id], file);
    expect(tokens.fresh().get(id)).toBeUndefined();
  });

  it('without an argument reads the clock itself', async () => {
    const { file, id } = await fixture();
    const tokens = new LiveTokens({ file, maxStalenessMs: 0 });
    expect(tokens.current().get(id)).toBeDefined();
    await deleteTokens([id], file);
    expect(tokens.current().get(id)).toBeUndefined();
  });
});
