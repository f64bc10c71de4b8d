import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModel } from 'ai';
import { UnavailableError } from '../errors.js';

// Which OpenAI-compatible endpoint the agent talks to (OpenAI, Ollama, llama.cpp, vLLM: anything
// serving `POST {baseURL}/chat/completions`).
//
// Precedence, per setting: the server config (set through `PATCH /config`) wins over the
// environment (`TETHER_MODEL_URL`, `TETHER_MODEL`, `TETHER_MODEL_API_KEY`), because the config is
// the explicit, later choice of someone using the running server. Empty strings count as unset.
//
// One exception protects the key: an API key from the environment is only sent to the URL from
// the environment. Otherwise anyone allowed to PATCH /config could point `modelUrl` at their own
// server and receive the operator's key in the Authorization header.
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
  /** A fresh AI SDK language model bound to these settings. */
  createModel(): LanguageModel;
  /** Replaces any occurrence of the API key in `text` (error bodies may echo request headers). */
  redact(text: string): string;
  /** Safe description (no key): `{ modelUrl, model, hasApiKey, sources }`. */
  toJSON(): ProviderDescription;
}

export type Source = 'config' | 'env';

export interface ProviderDescription {
  modelUrl: string;
  model: string;
  hasApiKey: boolean;
  sources: ProviderSettings['sources'];
}

export const ENV_MODEL_URL = 'TETHER_MODEL_URL';
export const ENV_MODEL = 'TETHER_MODEL';
export const ENV_MODEL_API_KEY = 'TETHER_MODEL_API_KEY';

function pick(configValue: string | undefined, envValue: string | undefined): [string, Source] | undefined {
  const c = configValue?.trim();
  if (c) return [c, 'config'];
  const e = envValue?.trim();
  if (e) return [e, 'env'];
  return undefined;
}

function normalizeUrl(raw: string, source: Source): { url: URL; clean: string } {
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
  const clean = new URL(url.href);
  clean.username = '';
  clean.password = '';
  return { url, clean: clean.href.replace(/\/+$/, '') };
}

function describeSource(setting: 'modelUrl' | 'model', source: Source): string {
  if (source === 'config') return `the config (${setting})`;
  return setting === 'modelUrl' ? ENV_MODEL_URL : ENV_MODEL;
}

/**
 * Merge the server config with the environment (config wins) and validate.
 * Throws UnavailableError `no_provider` naming the missing settings, or `invalid_provider`.
 */
export function resolveProviderSettings(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env): ProviderSettings {
  const urlPick = pick(config.modelUrl, env[ENV_MODEL_URL]);
  const modelPick = pick(config.model, env[ENV_MODEL]);
  if (!urlPick || !modelPick) {
    const missing = [
      !urlPick ? `the model base URL (config \`modelUrl\` or env ${ENV_MODEL_URL}, e.g. http://127.0.0.1:11434/v1)` : '',
      !modelPick ? `the model name (config \`model\` or env ${ENV_MODEL}, e.g. llama3.1)` : '',
    ].filter(Boolean);
    throw new UnavailableError(
      `no model provider is configured: missing ${missing.join(' and ')}. ` +
        `Set them with PATCH /config {"modelUrl", "model", "apiKey"} or the environment variables ` +
        `${ENV_MODEL_URL}, ${ENV_MODEL} and ${ENV_MODEL_API_KEY} (the key only if the provider needs one).`,
      'no_provider',
    );
  }
  const [rawUrl, urlSource] = urlPick;
  const [model, modelSource] = modelPick;
  const { url, clean } = normalizeUrl(rawUrl, urlSource);

  let apiKey: string | undefined;
  let keySource: Source | 'none' = 'none';
  const configKey = config.apiKey?.trim();
  const envKey = env[ENV_MODEL_API_KEY]?.trim();
  if (configKey) {
    apiKey = configKey;
    keySource = 'config';
  } else if (envKey && urlSource === 'env') {
    apiKey = envKey;
    keySource = 'env';
  } else if (url.password) {
    // `http://:KEY@host/v1` is how some people pass a key in one setting; move it to the header.
    apiKey = decodeURIComponent(url.password);
    keySource = urlSource;
  }

  const sources = Object.freeze({ modelUrl: urlSource, model: modelSource, apiKey: keySource });
  const description = (): ProviderDescription => ({ modelUrl: clean, model, hasApiKey: apiKey !== undefined, sources });
  return Object.freeze({
    baseURL: clean,
    model,
    hasApiKey: apiKey !== undefined,
    sources,
    createModel: () => createOpenAICompatible({ name: 'tether', baseURL: clean, apiKey }).chatModel(model),
    redact: (text: string) => (apiKey ? text.split(apiKey).join('[redacted]') : text),
    toJSON: description,
  });
}
