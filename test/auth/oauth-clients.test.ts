// The registered-clients file: private, bounded (the oldest client without a grant makes room),
// and never overwritten when it is not valid.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_CLIENTS, OAuthClients } from '../../src/auth/oauth/client-store.js';
import { tempEnv, type TempEnv } from '../helpers/env.js';

let env: TempEnv | undefined;
afterEach(() => env?.cleanup());

const reg = (n: number) => ({ name: `client ${n}`, redirectUris: [`http://127.0.0.1/${n}`] });

describe('OAuthClients', () => {
  it('persists clients 0600, and at the bound evicts the oldest without a grant', async () => {
    env = tempEnv();
    const file = path.join(env.dataHome, 'tether', 'oauth-clients.json');
    const withGrant = new Set<string>();
    const store = new OAuthClients(file, (id) => withGrant.has(id));
    const ids: string[] = [];
    for (let i = 0; i < MAX_CLIENTS; i++) ids.push((await store.register(reg(i))).id);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    withGrant.add(ids[0]);
    const next = await store.register(reg(100));
    expect(store.size).toBe(MAX_CLIENTS);
    expect(store.get(ids[0])).toBeDefined(); // it holds a grant
    expect(store.get(ids[1])).toBeUndefined(); // the oldest without one
    // A restarted server reads the same clients.
    const again = new OAuthClients(file, () => false);
    expect(again.get(next.id)?.name).toBe('client 100');
    expect(again.size).toBe(MAX_CLIENTS);
    // Every client holding a grant: the registration is refused, nothing evicted.
    const full = new OAuthClients(file, () => true);
    await expect(full.register(reg(101))).rejects.toMatchObject({ status: 503 });
    expect(new OAuthClients(file, () => false).get(next.id)).toBeDefined();
  }, 60_000);

  it('an invalid file is left untouched and registration is refused', async () => {
    env = tempEnv();
    const file = path.join(env.dataHome, 'tether', 'oauth-clients.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (const text of ['{not json', JSON.stringify({ version: 2, clients: [] }), JSON.stringify({ version: 1, clients: [{ id: 'x' }] })]) {
      fs.writeFileSync(file, text);
      const store = new OAuthClients(file, () => false);
      await expect(store.register(reg(1))).rejects.toMatchObject({ status: 503 });
      expect(fs.readFileSync(file, 'utf8')).toBe(text);
    }
  });
});
