// Server settings (`GET/PATCH /config`), in $XDG_CONFIG_HOME/tether/config.json (0600, locked
// atomic writes). The API key is write-only: no endpoint ever returns it. The server's environment
// takes precedence over this file; which value is used, and why, is src/config/effective.ts.
import { constants as fsConstants } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { StoreError, UsageError, errorMessage } from '../errors.js';
import { configDir } from '../paths.js';
import { withFileLock, writePrivateFileAtomic } from '../fs/atomic-json.js';
import { SETTING_KEYS, SettingSourceSchema, effectiveSettings, type EffectiveSettings, type SettingKey } from './effective.js';

export const SETTINGS_VERSION = 1;

const httpUrl = z
  .string()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL without user:password (put the key in apiKey)');

/** Every setting; all optional. `null` in a PATCH clears one. */
export const settingsShape = {
  shell: z
    .string()
    .min(1)
    .max(4096)
    .refine((v) => path.isAbsolute(v), 'must be an absolute path to a shell, e.g. /bin/bash'),
  modelUrl: httpUrl,
  model: z.string().min(1).max(256),
  apiKey: z.string().min(1).max(4096),
  agentMaxSteps: z.number().int().min(1).max(200),
};

export const SettingsFileSchema = z.object({ version: z.literal(SETTINGS_VERSION), ...mapOptional(settingsShape) }).strict();
export type Settings = Partial<{ [K in keyof typeof settingsShape]: z.infer<(typeof settingsShape)[K]> }>;

/** `PATCH /config`: any subset of the settings; `null` clears one; unknown keys are refused. */
export const SettingsPatchSchema = z
  .object({
    shell: settingsShape.shell.nullable().optional(),
    modelUrl: settingsShape.modelUrl.nullable().optional(),
    model: settingsShape.model.nullable().optional(),
    apiKey: settingsShape.apiKey.nullable().optional(),
    agentMaxSteps: settingsShape.agentMaxSteps.nullable().optional(),
  })
  .strict();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/**
 * What GET /config shows: the value the server uses for each setting (the environment, then the
 * config file, then the default: src/config/effective.ts) and where it came from; never the key,
 * only whether one is used.
 */
export const PublicSettingsSchema = z.object({
  shell: z.string().nullable().describe("null: the server's default ($SHELL, else /bin/bash)"),
  modelUrl: z.string().nullable().describe('Without any user:password'),
  model: z.string().nullable(),
  apiKeySet: z.boolean().describe('Whether an API key is sent to modelUrl (never the key)'),
  agentMaxSteps: z.number().int(),
  sources: z.object(Object.fromEntries(SETTING_KEYS.map((k) => [k, SettingSourceSchema])) as Record<SettingKey, typeof SettingSourceSchema>),
});
export type PublicSettings = z.infer<typeof PublicSettingsSchema>;

/** `value` must be an existing regular file the server may execute (after following symlinks). */
async function checkExecutable(value: string, key: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(value);
    await fsp.access(value, fsConstants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not executable' : `cannot be checked (${code ?? errorMessage(err)})`;
    throw new UsageError(`${key}: ${value} ${why}; give the absolute path of an executable program, e.g. /bin/bash`);
  }
  if (!st.isFile()) throw new UsageError(`${key}: ${value} is not a regular file; give the absolute path of an executable program, e.g. /bin/bash`);
}

function mapOptional<T extends Record<string, z.ZodTypeAny>>(shape: T): { [K in keyof T]: z.ZodOptional<T[K]> } {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as { [K in keyof T]: z.ZodOptional<T[K]> };
}

export function publicSettings(file: Settings, env: NodeJS.ProcessEnv): PublicSettings {
  const e = effectiveSettings(file, env);
  return { shell: e.shell, modelUrl: e.modelUrl, model: e.model, apiKeySet: e.apiKey !== null, agentMaxSteps: e.agentMaxSteps, sources: e.sources };
}

export class SettingsStore {
  private cache: Settings | null = null;

  constructor(
    readonly file = path.join(configDir(), 'config.json'),
    /** The server's environment, which takes precedence over the file (src/config/effective.ts); read at each use. */
    readonly env: () => NodeJS.ProcessEnv = () => process.env,
  ) {}

  /** What the server uses now, with sources (never the key: see effective.ts for who may hold it). */
  async effective(): Promise<EffectiveSettings> {
    return effectiveSettings(await this.get(), this.env());
  }

  async public(): Promise<PublicSettings> {
    return publicSettings(await this.get(), this.env());
  }

  /** Reads (and caches) the settings. A missing file is empty; an invalid one is an error naming it. */
  async get(): Promise<Settings> {
    if (this.cache) return this.cache;
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.cache = {});
      throw new StoreError(`cannot read settings file ${this.file}: ${errorMessage(err)}`);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new StoreError(`settings file ${this.file} is not valid JSON (${errorMessage(err)}); it was left untouched`);
    }
    const parsed = SettingsFileSchema.safeParse(data);
    if (!parsed.success) {
      throw new StoreError(
        `settings file ${this.file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}; it was left untouched`,
      );
    }
    const { version: _v, ...settings } = parsed.data;
    return (this.cache = settings as Settings);
  }

  /** Applies a validated patch under the lock. Values that name a program must name one that exists
   * and is executable now, so a typo fails here and not at the next terminal. Changing modelUrl drops a stored apiKey unless the
   * same patch sets one, so a key never follows the URL to a different server. */
  async update(patch: SettingsPatch): Promise<Settings> {
    return withFileLock(
      this.file,
      async () => {
        if (typeof patch.shell === 'string') await checkExecutable(patch.shell, 'shell');
        this.cache = null;
        const current = { ...(await this.get()) } as Record<string, unknown>;
        if (patch.modelUrl !== undefined && patch.modelUrl !== current.modelUrl && patch.apiKey === undefined) delete current.apiKey;
        for (const [k, v] of Object.entries(patch)) {
          if (v === undefined) continue;
          if (v === null) delete current[k];
          else current[k] = v;
        }
        const checked = SettingsFileSchema.safeParse({ version: SETTINGS_VERSION, ...current });
        if (!checked.success) throw new UsageError(checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
        await writePrivateFileAtomic(this.file, JSON.stringify(checked.data, null, 2) + '\n', 'settings file');
        const { version: _v, ...settings } = checked.data;
        return (this.cache = settings as Settings);
      },
      { what: 'settings file' },
    );
  }
}
