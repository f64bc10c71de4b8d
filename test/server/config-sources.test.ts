// GET /config reports what the server uses and where each value comes from; the environment wins
// over the config file (a stale file value once silently beat a fresh variable: issue 12).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { registerSession } from '../../src/server/routes/session.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const VARS = ['TETHER_MODEL_URL', 'TETHER_MODEL', 'TETHER_MODEL_API_KEY'];
const saved = Object.fromEntries(VARS.map((k) => [k, process.env[k]]));
let s: TestServer;
let admin: string;
let stale: FakeModel;
let fresh: FakeModel;

beforeAll(async () => {
  for (const k of VARS) delete process.env[k];
  s = await startTestServer({ registrars: [registerSession] });
  admin = (await s.token(['read', 'write', 'execute'])).token;
  stale = await startFakeModel();
  fresh = await startFakeModel();
});
afterEach(async () => {
  for (const k of VARS) delete process.env[k];
  await patch({ modelUrl: null, model: null, apiKey: null });
});
afterAll(async () => {
  await s.close();
  await stale.close();
  await fresh.close();
  for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
});

const patch = (body: unknown) =>
  s.fetch('/config', { method: 'PATCH', token: admin, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const get = async () => (await s.fetch('/config', { token: admin })).json() as Promise<Record<string, any>>;

describe('where each setting comes from', () => {
  it('a fresh environment variable beats a stale config file value, visibly, and the agent uses it', async () => {
    expect((await patch({ modelUrl: stale.baseURL, model: 'stale-model' })).status).toBe(200);
    process.env.TETHER_MODEL_URL = fresh.baseURL;
    const c = await get();
    expect(c.modelUrl).toBe(fresh.baseURL);
    expect(c.sources.modelUrl).toEqual({
      source: 'env',
      env: 'TETHER_MODEL_URL',
      overridden: true,
      note: `the config file's modelUrl (${stale.baseURL}) is not used: the environment takes precedence`,
    });
    expect(c.sources.model).toEqual({ source: 'file' });

    fresh.reply({ text: ['from the fresh one'] });
    const session = (await (await s.fetch('/session', { method: 'POST', token: admin })).json()) as { id: string };
    const r = await s.fetch(`/session/${session.id}/message`, {
      method: 'POST',
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    expect(((await r.json()) as { status: string }).status).toBe('completed');
    expect(fresh.requests).toHaveLength(1);
    expect(fresh.requests[0].body.model).toBe('stale-model');
    expect(stale.requests).toHaveLength(0);
  });

  it('never returns a key: not from the file, not from the environment, not from credentials in a URL', async () => {
    process.env.TETHER_MODEL_URL = 'http://user:sk-url-secret-1@127.0.0.1:9/v1';
    process.env.TETHER_MODEL_API_KEY = 'sk-env-secret-2';
    const r = await patch({ apiKey: 'sk-file-secret-3' });
    const texts = [await r.text(), JSON.stringify(await get())];
    for (const t of texts) expect(t).not.toMatch(/sk-url-secret-1|sk-env-secret-2|sk-file-secret-3/);
    const c = await get();
    expect(c.modelUrl).toBe('http://127.0.0.1:9/v1');
    expect(c.apiKeySet).toBe(true);
    expect(c.sources.apiKey).toMatchObject({ source: 'env', env: 'TETHER_MODEL_API_KEY', overridden: true });
  });

  it('PATCH of a setting the environment sets is stored, and the answer shows it is not used', async () => {
    process.env.TETHER_MODEL = 'env-model';
    const r = await patch({ model: 'file-model' });
    expect(r.status).toBe(200);
    const c = (await r.json()) as Record<string, any>;
    expect(c.model).toBe('env-model');
    expect(c.sources.model).toMatchObject({ source: 'env', env: 'TETHER_MODEL', overridden: true });
    delete process.env.TETHER_MODEL;
    expect((await get()).model).toBe('file-model');
    expect((await get()).sources.model).toEqual({ source: 'file' });
    // null removes it from the file: back to the default.
    const cleared = (await (await patch({ model: null })).json()) as Record<string, any>;
    expect(cleared).toMatchObject({ model: null, sources: { model: { source: 'default' } } });
  });

  it('config.updated on /event carries the sources, never a key', async () => {
    const r = await s.fetch('/event', { token: admin });
    const reader = r.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    await patch({ apiKey: 'sk-evented-secret', model: 'evented' });
    while (!text.includes('config.updated')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/"sources":\{/);
    expect(text).not.toContain('sk-evented-secret');
    await reader.cancel();
  });
});
