import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { ENV_MODEL, ENV_MODEL_API_KEY, ENV_MODEL_URL, effectiveSettings, type SettingSource } from '../config/effective.js';
import { UnavailableError } from '../errors.js';
import { fastFailFetch, type FastFailOptions } from './reach.js';

// Which OpenAI-compatible endpoint the agent talks to (OpenAI, Ollama, llama.cpp, vLLM: anything
// serving `POST {baseURL}/chat/completions`).
//
// Which value wins (the environment over the config file, the key always from where the URL comes
// from) is decided in one place, src/config/effective.ts, shared with `GET /config`: what the
// settings page shows is what the agent uses.
//
// The key never leaves this module's closure: the returned settings carry only `hasApiKey`, so
// logging, JSON-serialising or returning them cannot leak it.
export interface ProviderConfig {
  modelUrl?: string;
  model?: string;
  apiKey?: string;
}

export interface ProviderSettings {
  /** Base URL without credentials or trailing slash, e.g. `http://127.0.0.1:11434/v1`. */
  readonly baseURL: string;
  readonly model: string;
  readonly hasApiKey: boolean;
  /** Where each setting came from, for diagnostics. */
  readonly sources: { readonly modelUrl: Source; readonly model: Source; readonly apiKey: Source | 'none' };
  /** The environment variable modelUrl came from; null when it is the config file's (for messages). */
  readonly urlVariable: string | null;
  /** A fresh AI SDK language model bound to these settings. */
  createModel(): LanguageModel;
  /** Replaces any occurrence of the API key in `text` (error bodies may echo request headers). */
  redact(text: string): string;
  /** Safe description (no key): `{ modelUrl, model, hasApiKey, sources }`. */
  toJSON(): ProviderDescription;
}

export type Source = 'file' | 'env';

export interface ProviderDescription {
  modelUrl: string;
  model: string;
  hasApiKey: boolean;
  sources: ProviderSettings['sources'];
}

export { ENV_MODEL, ENV_MODEL_API_KEY, ENV_MODEL_URL };

/** The base URL without credentials or a trailing slash; refuses what is not http(s). */
function normalizeUrl(raw: string, source: SettingSource): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnavailableError(
      `the model URL from ${describeSource('modelUrl', source)} is not a valid URL; give an http(s) base URL such as http://127.0.0.1:11434/v1`,
      'invalid_provider',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnavailableError(
      `the model URL from ${describeSource('modelUrl', source)} must use http or https (got ${url.protocol.replace(':', '')})`,
      'invalid_provider',
    );
  }
  url.username = '';
  url.password = '';
  return url.href.replace(/\/+$/, '');
}

function describeSource(setting: 'modelUrl' | 'model', source: SettingSource): string {
  if (source.source === 'env') return source.env ?? (setting === 'modelUrl' ? ENV_MODEL_URL : ENV_MODEL);
  return `the server setting ${setting}`;
}

/** The no-model refusal: what is missing, then what fixes it. Two short lines. */
function noProviderMessage(missing: ('modelUrl' | 'model')[]): string {
  const what = missing.length === 2 ? 'modelUrl and model are not set' : `${missing[0]} is not set`;
  const fix = missing.map((k) => (k === 'modelUrl' ? 'tether config set modelUrl http://127.0.0.1:11434/v1' : 'tether config set model NAME')).join(' && ');
  return `This server has no model configured: ${what}.\nSet it on the Settings page, or run: ${fix}`;
}

/**
 * Resolve the provider from the config file's values and the environment (src/config/effective.ts)
 * and validate it. Throws UnavailableError `no_provider` naming the missing settings, or `invalid_provider`.
 */
export function resolveProviderSettings(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env, reach: FastFailOptions = {}): ProviderSettings {
  const eff = effectiveSettings(config, env);
  const missing = (['modelUrl', 'model'] as const).filter((k) => eff[k] === null);
  if (eff.modelUrl === null || eff.model === null) throw new UnavailableError(noProviderMessage([...missing]), 'no_provider');
  const model = eff.model;
  const urlSource = eff.sources.modelUrl;
  const clean = normalizeUrl(eff.modelUrl, urlSource);
  const apiKey = eff.apiKey ?? undefined;
  const kind = (s: SettingSource): Source => (s.source === 'env' ? 'env' : 'file');
  const sources = Object.freeze({
    modelUrl: kind(urlSource),
    model: kind(eff.sources.model),
    apiKey: apiKey === undefined ? ('none' as const) : kind(eff.sources.apiKey),
  });
  const description = (): ProviderDescription => ({ modelUrl: clean, model, hasApiKey: apiKey !== undefined, sources });
  return Object.freeze({
    baseURL: clean,
    model,
    hasApiKey: apiKey !== undefined,
    sources,
    urlVariable: urlSource.source === 'env' ? (urlSource.env ?? ENV_MODEL_URL) : null,
    createModel: () => createOpenAICompatible({ name: 'tether', baseURL: clean, apiKey, fetch: fastFailFetch(reach) }).chatModel(model),
    redact: (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text),
    toJSON: description,
  });
}
