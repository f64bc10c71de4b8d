// What hangs on a token (web logins, tickets, pairing codes) is dropped when the token is deleted.
// The sweep learns of deletions from every load of the token file, not from comparing one sweep
// with the next: a token created and deleted between two sweeps is still reported gone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveTokens } from '../../src/auth/live-tokens.js';
import { createToken, deleteTokens } from '../../src/auth/token-admin.js';
import { LiveConnections } from '../../src/server/connections.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-gone-'));
  dirs.push(dir);
  const file = path.join(dir, 'auth-tokens.json');
  await createToken({ name: 'first', permissions: ['read'], expiresAt: null }, file);
  const tokens = new LiveTokens({ file });
  // A long interval: sweeps happen only when the test calls them.
  const connections = new LiveConnections(tokens, 3_600_000);
  const gone: [string, string][] = [];
  connections.onTokenGone((id, reason) => gone.push([id, reason]));
  connections.sweep();
  return { file, tokens, connections, gone };
}

// LiveTokens stats the file at most once per 2 ms; wait until it has loaded the change.
const loaded = (tokens: LiveTokens, has: (ids: Set<string>) => boolean) =>
  waitFor(
    () =>
      has(
        new Set(
          tokens
            .current()
            .records()
            .map((r) => r.id),
        ),
      ),
    { what: 'the token file to be reloaded', timeout: 5000, interval: 5 },
  );

describe('tokens gone', () => {
  it('a token created and deleted between two sweeps is reported gone at the next one', async () => {
    const { file, tokens, connections, gone } = await setup();
    const t = await createToken({ name: 'brief', permissions: ['read'], expiresAt: null }, file);
    await loaded(tokens, (ids) => ids.has(t.record.id));
    await deleteTokens([t.record.id], file);
    await loaded(tokens, (ids) => !ids.has(t.record.id));
    expect(gone).toEqual([]);
    connections.sweep();
    expect(gone).toEqual([[t.record.id, 'token revoked']]);
    // Reported once.
    connections.sweep();
    expect(gone).toHaveLength(1);
  });

  it('a token deleted after a sweep saw it is reported once, as revoked', async () => {
    const { file, tokens, connections, gone } = await setup();
    const t = await createToken({ name: 'seen', permissions: ['read'], expiresAt: null }, file);
    await loaded(tokens, (ids) => ids.has(t.record.id));
    connections.sweep();
    await deleteTokens([t.record.id], file);
    await loaded(tokens, (ids) => !ids.has(t.record.id));
    connections.sweep();
    connections.sweep();
    expect(gone).toEqual([[t.record.id, 'token revoked']]);
  });

  it('a token that expires is reported as expired', async () => {
    const { file, tokens, connections, gone } = await setup();
    const t = await createToken({ name: 'short', permissions: ['read'], expiresAt: new Date(Date.now() + 60_000).toISOString() }, file);
    await loaded(tokens, (ids) => ids.has(t.record.id));
    connections.sweep();
    connections.sweep(Date.now() + 120_000);
    expect(gone).toEqual([[t.record.id, 'token expired']]);
  });
});
