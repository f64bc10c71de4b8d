// Which value of each setting the server uses, and where it came from. One resolver, used by the
// agent (src/agent/provider.ts) and by `GET /config`, so what is shown is what is used.
//
// Precedence, per setting: the server's environment, then the config file, then the default.
// - The environment is set for this server process when it is started: the most specific and
//   most recent choice, as with git, npm or docker. The config file outlives restarts and is
//   shared by every server this user starts, in every project, so a value set there long ago must
//   not silently beat a variable set today (the bug this order fixes).
// - It is never silent: every setting carries its source, and a config file value that the
//   environment overrides is reported as overridden (GET /config, `tether config`, the web UI).
// - The API key always comes from the same place as the model URL (a key in the environment with
//   TETHER_MODEL_URL, the config file's with the config file's modelUrl), so a key is never sent
//   to a server it was not set for: someone allowed to change the config file's modelUrl cannot
//   route the operator's TETHER_MODEL_API_KEY to their own server, and the reverse.
// Empty or blank values count as unset.
import { z } from 'zod';
import type { Settings } from './settings.js';

export const ENV_MODEL_URL = 'TETHER_MODEL_URL';
export const ENV_MODEL = 'TETHER_MODEL';
export const ENV_MODEL_API_KEY = 'TETHER_MODEL_API_KEY';

/** Used when neither the environment nor the config file sets agentMaxSteps. */
export const DEFAULT_AGENT_MAX_STEPS = 20;
/** The terminal program when `shell` is not set (the pty manager's own fallback). */
const DEFAULT_SHELL_NOTE = "the server's $SHELL, else /bin/bash";

export const SETTING_KEYS = ['modelUrl', 'model', 'apiKey', 'shell', 'agentMaxSteps'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** The environment variable of each setting that has one. */
const SETTING_ENV: Readonly<Partial<Record<SettingKey, string>>> = {
  modelUrl: ENV_MODEL_URL,
  model: ENV_MODEL,
  apiKey: ENV_MODEL_API_KEY,
};

export const SettingSourceSchema = z.object({
  source: z.enum(['file', 'env', 'default']).describe('file: the config file (`tether config set`, PATCH /config); env: the server environment; default'),
  env: z.string().optional().describe('With source env: the variable'),
  overridden: z.boolean().optional().describe('The config file has a value for this setting too, which is not used (see note)'),
  note: z.string().optional().describe('Why the value comes from where it does, when that may surprise'),
});
export type SettingSource = z.infer<typeof SettingSourceSchema>;

/** What the server uses. The API key itself is kept apart: `apiKey` is only for the provider. */
export interface EffectiveSettings {
  modelUrl: string | null;
  model: string | null;
  apiKey: string | null;
  shell: string | null;
  agentMaxSteps: number;
  sources: Record<SettingKey, SettingSource>;
}

const clean = (v: string | undefined): string | undefined => {
  const t = v?.trim();
  return t ? t : undefined;
};

/** Resolves every setting from the config file's values and the environment (see the top of this file). */
export function effectiveSettings(file: Settings, env: NodeJS.ProcessEnv): EffectiveSettings {
  const sources = {} as Record<SettingKey, SettingSource>;

  const pick = (key: 'modelUrl' | 'model'): string | null => {
    const variable = SETTING_ENV[key]!;
    const fromEnv = clean(env[variable]);
    const fromFile = clean(file[key]);
    if (fromEnv !== undefined) {
      sources[key] = {
        source: 'env',
        env: variable,
        ...(fromFile !== undefined && fromFile !== fromEnv
          ? { overridden: true, note: `the config file's ${key} (${fromFile}) is not used: the environment takes precedence` }
          : {}),
      };
      return fromEnv;
    }
    sources[key] = { source: fromFile !== undefined ? 'file' : 'default' };
    return fromFile ?? null;
  };
  const rawUrl = pick('modelUrl');
  const model = pick('model');
  const { shown: modelUrl, password } = splitCredentials(rawUrl);

  // The key follows the URL (see the top of this file).
  const envKey = clean(env[ENV_MODEL_API_KEY]);
  const fileKey = clean(file.apiKey);
  const urlSource = sources.modelUrl.source;
  let apiKey: string | null;
  if (urlSource === 'env') {
    // `http://:KEY@host/v1` is how some pass a key in one variable; it moves to the header.
    apiKey = envKey ?? password ?? null;
    sources.apiKey = envKey
      ? { source: 'env', env: ENV_MODEL_API_KEY }
      : password
        ? { source: 'env', env: ENV_MODEL_URL, note: `the key is the password part of ${ENV_MODEL_URL}` }
        : { source: 'default', note: `no ${ENV_MODEL_API_KEY} in the server's environment (the key comes from where modelUrl comes from)` };
    if (fileKey) {
      sources.apiKey.overridden = true;
      sources.apiKey.note = `the config file's apiKey is not used: the key comes from where modelUrl comes from (${ENV_MODEL_URL}), so from ${ENV_MODEL_API_KEY}`;
    }
  } else if (urlSource === 'file') {
    apiKey = fileKey ?? password ?? null;
    sources.apiKey = { source: apiKey ? 'file' : 'default' };
    if (envKey) {
      sources.apiKey.note = `${ENV_MODEL_API_KEY} is not used: it is sent only to ${ENV_MODEL_URL}, and modelUrl comes from the config file`;
    }
  } else {
    // No URL yet: show the key that would pair with a URL set the same way.
    apiKey = envKey ?? fileKey ?? null;
    sources.apiKey = envKey ? { source: 'env', env: ENV_MODEL_API_KEY } : { source: fileKey ? 'file' : 'default' };
  }

  const shell = clean(file.shell) ?? null;
  sources.shell = shell ? { source: 'file' } : { source: 'default', note: DEFAULT_SHELL_NOTE };
  const agentMaxSteps = file.agentMaxSteps ?? DEFAULT_AGENT_MAX_STEPS;
  sources.agentMaxSteps = { source: file.agentMaxSteps === undefined ? 'default' : 'file' };

  return { modelUrl, model, apiKey, shell, agentMaxSteps, sources };
}

/** A URL without its user:password (never shown), and the password (a key some put there). An
 * unparseable value (the provider refuses it later) is shown with anything before an `@` hidden. */
function splitCredentials(raw: string | null): { shown: string | null; password: string | undefined } {
  if (raw === null) return { shown: null, password: undefined };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { shown: raw.replace(/^([^/]*\/\/)[^/]*@/, '$1[hidden]@'), password: undefined };
  }
  if (!url.username && !url.password) return { shown: raw, password: undefined };
  let password: string | undefined;
  try {
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    password = url.password;
  }
  url.username = '';
  url.password = '';
  return { shown: url.href, password };
}
