import util from 'node:util';
import { generateText } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { resolveProviderSettings } from '../../src/agent/provider.js';
import { startFakeModel, type FakeModel } from '../helpers/fake-model.js';

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('resolveProviderSettings', () => {
  // Changed by issue 12: two short lines, what is missing and what fixes it (was one 60-word paragraph).
  it('throws UnavailableError no_provider in two lines: what is missing, and the command or page that fixes it', () => {
    const err = catchError(() => resolveProviderSettings({}, {}));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'no_provider', status: 503 });
    const lines = (err as Error).message.split('\n');
    expect(lines).toEqual([
      'This server has no model configured: modelUrl and model are not set.',
      'Set it on the Settings page, or run: tether config set modelUrl http://127.0.0.1:11434/v1 && tether config set model NAME',
    ]);
  });

  it('names only the missing setting', () => {
    const err = catchError(() => resolveProviderSettings({ modelUrl: 'http://127.0.0.1:11434/v1' }, {})) as Error;
    expect(err).toMatchObject({ code: 'no_provider' });
    expect(err.message).toContain('model is not set');
    expect(err.message).toContain('tether config set model NAME');
    expect(err.message).not.toContain('modelUrl');
  });

  it('treats empty and blank strings as unset', () => {
    expect(() => resolveProviderSettings({ modelUrl: ' ', model: '' }, { TETHER_MODEL_URL: '', TETHER_MODEL: '  ' })).toThrow(UnavailableError);
  });

  // Changed by issue 12: a stale config file value no longer beats a fresh environment variable.
  it('prefers the environment over the config file, per setting', () => {
    const env = { TETHER_MODEL_URL: 'http://env.example/v1', TETHER_MODEL: 'env-model' };
    const both = resolveProviderSettings({ modelUrl: 'http://cfg.example/v1/', model: 'cfg-model' }, env);
    expect(both).toMatchObject({ baseURL: 'http://env.example/v1', model: 'env-model', sources: { modelUrl: 'env', model: 'env' } });
    const mixed = resolveProviderSettings({ modelUrl: 'http://cfg.example/v1/', model: 'cfg-model' }, { TETHER_MODEL: 'env-model' });
    expect(mixed).toMatchObject({ baseURL: 'http://cfg.example/v1', model: 'env-model', sources: { modelUrl: 'file', model: 'env' } });
    const fileOnly = resolveProviderSettings({ modelUrl: 'http://cfg.example/v1', model: 'cfg-model' }, {});
    expect(fileOnly).toMatchObject({ baseURL: 'http://cfg.example/v1', model: 'cfg-model', hasApiKey: false, urlVariable: null });
    expect(resolveProviderSettings({}, env)).toMatchObject({ urlVariable: 'TETHER_MODEL_URL' });
  });

  it('takes the key from where the URL comes from: a key is never sent to a server it was not set for', () => {
    const env = { TETHER_MODEL_URL: 'https://api.openai.com/v1', TETHER_MODEL: 'gpt', TETHER_MODEL_API_KEY: 'sk-env' };
    expect(resolveProviderSettings({}, env)).toMatchObject({ hasApiKey: true, sources: { apiKey: 'env' } });
    // Someone who can PATCH /config cannot redirect the operator's provider: the environment's URL wins.
    const redirected = resolveProviderSettings({ modelUrl: 'http://evil.example/v1', apiKey: 'sk-cfg' }, env);
    expect(redirected).toMatchObject({ baseURL: 'https://api.openai.com/v1', hasApiKey: true, sources: { apiKey: 'env' } });
    // ...nor send the operator's key to a URL of the config file's.
    const envKeyOnly = { TETHER_MODEL: 'gpt', TETHER_MODEL_API_KEY: 'sk-env' };
    expect(resolveProviderSettings({ modelUrl: 'http://evil.example/v1' }, envKeyOnly)).toMatchObject({ hasApiKey: false, sources: { apiKey: 'none' } });
    expect(resolveProviderSettings({ modelUrl: 'http://cfg.example/v1', apiKey: 'sk-cfg' }, envKeyOnly)).toMatchObject({
      hasApiKey: true,
      sources: { apiKey: 'file' },
    });
    // And the config file's key does not go to the environment's URL.
    expect(resolveProviderSettings({ apiKey: 'sk-cfg' }, { TETHER_MODEL_URL: 'https://other.example/v1', TETHER_MODEL: 'm' })).toMatchObject({
      hasApiKey: false,
    });
  });

  it('rejects URLs that are not http(s)', () => {
    expect(catchError(() => resolveProviderSettings({ modelUrl: 'not a url', model: 'm' }, {}))).toMatchObject({ code: 'invalid_provider' });
    expect(catchError(() => resolveProviderSettings({ modelUrl: 'file:///etc/passwd', model: 'm' }, {}))).toMatchObject({
      code: 'invalid_provider',
    });
  });

  it('never exposes the key: not in JSON, not in inspect, not in the URL', () => {
    const s = resolveProviderSettings({ modelUrl: 'http://user:sk-in-url@host.example/v1', model: 'm', apiKey: 'sk-secret-1' }, {});
    const shown = JSON.stringify(s) + util.inspect(s, { depth: 10, showHidden: true }) + s.baseURL;
    expect(shown).not.toContain('sk-secret-1');
    expect(shown).not.toContain('sk-in-url');
    expect(s.toJSON()).toEqual({
      modelUrl: 'http://host.example/v1',
      model: 'm',
      hasApiKey: true,
      sources: { modelUrl: 'file', model: 'file', apiKey: 'file' },
    });
    expect(s.redact('echo sk-secret-1 back')).toBe('echo [redacted] back');
  });
});

describe('the provider against a real HTTP server', () => {
  let model: FakeModel;
  beforeEach(async () => {
    model = await startFakeModel();
  });
  afterEach(async () => {
    await model.close();
  });

  it('sends the key as a Bearer header (a key in the URL moves to the header)', async () => {
    model.reply({ text: ['a'] }, { text: ['b'] });
    const s = resolveProviderSettings({ modelUrl: model.baseURL, model: 'm', apiKey: 'sk-header' }, {});
    await generateText({ model: s.createModel(), prompt: 'hi', maxRetries: 0 });
    expect(model.requests[0].headers.authorization).toBe('Bearer sk-header');

    const inUrl = model.baseURL.replace('http://', 'http://:sk-from-url@');
    const s2 = resolveProviderSettings({ modelUrl: inUrl, model: 'm' }, {});
    await generateText({ model: s2.createModel(), prompt: 'hi', maxRetries: 0 });
    expect(model.requests[1].headers.authorization).toBe('Bearer sk-from-url');
  });

  it('sends no Authorization header without a key, and non-streaming replies work', async () => {
    model.reply({ text: ['plain ', 'answer'] });
    const s = resolveProviderSettings({ model: 'm' }, { TETHER_MODEL_URL: model.baseURL });
    const result = await generateText({ model: s.createModel(), prompt: 'hi', maxRetries: 0 });
    expect(result.text).toBe('plain answer');
    expect(model.requests[0].body.stream).not.toBe(true);
    expect(model.requests[0].headers.authorization).toBeUndefined();
  });
});
