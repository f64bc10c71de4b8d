// Which value of each setting the server uses, and its source (src/config/effective.ts).
import { describe, expect, it } from 'vitest';
import { effectiveSettings } from '../../src/config/effective.js';

describe('effectiveSettings', () => {
  it('the environment wins over the config file, which wins over the default; each value names its source', () => {
    const file = { modelUrl: 'http://stale.example/v1', model: 'old-model', agentMaxSteps: 9, shell: '/bin/sh' };
    const env = { TETHER_MODEL_URL: 'http://fresh.example/v1' };
    const e = effectiveSettings(file, env);
    expect(e).toMatchObject({ modelUrl: 'http://fresh.example/v1', model: 'old-model', agentMaxSteps: 9, shell: '/bin/sh' });
    expect(e.sources.modelUrl).toEqual({
      source: 'env',
      env: 'TETHER_MODEL_URL',
      overridden: true,
      note: "the config file's modelUrl (http://stale.example/v1) is not used: the environment takes precedence",
    });
    expect(e.sources.model).toEqual({ source: 'file' });
    expect(e.sources.agentMaxSteps).toEqual({ source: 'file' });
    expect(effectiveSettings({}, {})).toMatchObject({ modelUrl: null, model: null, apiKey: null, shell: null, agentMaxSteps: 20 });
    expect(effectiveSettings({}, {}).sources.agentMaxSteps).toEqual({ source: 'default' });
  });

  it('the same value in both places is not reported as overridden; blank values count as unset', () => {
    expect(effectiveSettings({ model: 'm' }, { TETHER_MODEL: 'm' }).sources.model).toEqual({ source: 'env', env: 'TETHER_MODEL' });
    expect(effectiveSettings({ model: 'm' }, { TETHER_MODEL: '   ' }).sources.model).toEqual({ source: 'file' });
    expect(effectiveSettings({ model: ' ' }, { TETHER_MODEL: '' })).toMatchObject({ model: null, sources: { model: { source: 'default' } } });
  });

  it('the key comes from where the URL comes from, and says so when the other one is ignored', () => {
    const both = { apiKey: 'sk-file' };
    const fromEnv = effectiveSettings({ ...both, modelUrl: 'http://f/v1' }, { TETHER_MODEL_URL: 'http://e/v1', TETHER_MODEL_API_KEY: 'sk-env' });
    expect(fromEnv).toMatchObject({ apiKey: 'sk-env', sources: { apiKey: { source: 'env', env: 'TETHER_MODEL_API_KEY', overridden: true } } });
    expect(fromEnv.sources.apiKey.note).toMatch(/config file's apiKey is not used/);
    const envUrlNoKey = effectiveSettings(both, { TETHER_MODEL_URL: 'http://e/v1' });
    expect(envUrlNoKey).toMatchObject({ apiKey: null, sources: { apiKey: { source: 'default', overridden: true } } });
    const fileUrl = effectiveSettings({ ...both, modelUrl: 'http://f/v1' }, { TETHER_MODEL_API_KEY: 'sk-env' });
    expect(fileUrl).toMatchObject({ apiKey: 'sk-file', sources: { apiKey: { source: 'file' } } });
    expect(fileUrl.sources.apiKey.note).toMatch(/TETHER_MODEL_API_KEY is not used: it is sent only to TETHER_MODEL_URL/);
    expect(effectiveSettings({ modelUrl: 'http://f/v1' }, { TETHER_MODEL_API_KEY: 'sk-env' }).apiKey).toBeNull();
  });

  it('never shows credentials in a URL (they are the key); an unparseable URL is shown with them hidden', () => {
    const e = effectiveSettings({}, { TETHER_MODEL_URL: 'http://user:sk-in-url@host.example/v1' });
    expect(e.modelUrl).toBe('http://host.example/v1');
    expect(e).toMatchObject({ apiKey: 'sk-in-url', sources: { apiKey: { source: 'env', env: 'TETHER_MODEL_URL' } } });
    expect(JSON.stringify(e.sources)).not.toContain('sk-in-url');
    const odd = effectiveSettings({}, { TETHER_MODEL_URL: 'http://:sk-odd@[bad/v1' });
    expect(odd.modelUrl).not.toContain('sk-odd');
    expect(odd.modelUrl).toBe('http://[hidden]@[bad/v1');
  });
});
