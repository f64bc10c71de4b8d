// `tether config [get KEY | set KEY [VALUE] | unset KEY]`: the server's settings, through the API
// like every client command (GET /config to read, PATCH /config to change: write + execute).
// Every value is shown with its source (the server's environment, its config file, or the default;
// the environment wins: src/config/effective.ts), so an overridden setting is never a surprise.
// The API key is never read from argv (shell history, the process list): a hidden prompt or --stdin.
import type { TetherClient } from '../client/client.js';
import { ApiError, explainApiError } from '../client/errors.js';
import type { ConfigPatch, PublicConfig, SettingKey, SettingSource } from '../client/types.js';
import { TetherError, UsageError } from '../errors.js';
import { withClient, type ClientFlags } from './client-common.js';
import { dim, table, yellow } from './output.js';
import { safeJson, visible } from './sanitize.js';
import { promptHidden, readStdin } from './secret-input.js';

export interface ConfigOptions extends ClientFlags {
  json?: boolean;
  stdin?: boolean;
}

/** In the order they are listed. */
export const KEYS: readonly SettingKey[] = ['modelUrl', 'model', 'apiKey', 'shell', 'agentMaxSteps'];

const EXAMPLES: Record<SettingKey, string> = {
  modelUrl: 'an http(s) base URL, e.g. http://127.0.0.1:11434/v1',
  model: 'a model name, e.g. llama3.1',
  apiKey: 'read from a hidden prompt or --stdin',
  shell: 'an absolute path, e.g. /bin/bash',
  agentMaxSteps: 'a whole number from 1 to 200',
};

function checkKey(key: string): SettingKey {
  const found = KEYS.find((k) => k === key) ?? KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
  if (!found) throw new UsageError(`unknown setting "${visible(key)}"; the settings are: ${KEYS.join(', ')}`);
  return found;
}

/** Where a value came from, in a few words. */
export function describeSource(s: SettingSource): string {
  const base = s.source === 'env' ? `env ${s.env ?? ''}`.trim() : s.source === 'file' ? 'config file' : 'default';
  return s.overridden ? `${base} (config file value unused)` : base;
}

function shownValue(c: PublicConfig, key: SettingKey): string {
  if (key === 'apiKey') return c.apiKeySet ? 'set (hidden)' : 'not set';
  const v = c[key];
  if (v === null) return key === 'shell' ? '(server default)' : 'not set';
  return String(v);
}

/** A refusal of PATCH /config for want of permissions says what changing settings needs. */
function explainPatch(err: unknown, url: string): unknown {
  if (err instanceof ApiError && err.status === 403 && err.code === 'insufficient_permissions') {
    return new TetherError(
      err.code,
      `changing the server's settings needs write and execute (settings decide what runs and where prompts go): ${explainApiError(err, url)}`,
      403,
      1,
    );
  }
  return err;
}

export async function listCommand(opts: ConfigOptions): Promise<void> {
  await withClient(opts, async (client) => {
    const c = await client.getConfig();
    if (opts.json) return void process.stdout.write(safeJson(c, 2) + '\n');
    const rows = KEYS.map((k) => [k, visible(shownValue(c, k)), visible(describeSource(c.sources[k]))]);
    process.stdout.write(table(['SETTING', 'VALUE', 'SOURCE'], rows));
    for (const k of KEYS) {
      const note = c.sources[k].note;
      if (note) process.stdout.write(dim(`${k}: ${visible(note)}`) + '\n');
    }
    process.stdout.write(dim(`settings of the server at ${client.url}; its environment wins over its config file`) + '\n');
  });
}

export async function getCommand(keyArg: string, opts: ConfigOptions): Promise<void> {
  const key = checkKey(keyArg);
  await withClient(opts, async (client) => {
    const c = await client.getConfig();
    const value = key === 'apiKey' ? c.apiKeySet : c[key];
    if (opts.json) return void process.stdout.write(safeJson({ key, value, ...c.sources[key] }) + '\n');
    if (value === null || value === false) {
      const note = c.sources[key].note;
      process.stderr.write(`${key} is not set${note ? ` (${visible(note)})` : ''}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${key === 'apiKey' ? 'set' : visible(value)}\n`);
  });
}

async function readValue(key: SettingKey, valueArg: string | undefined, opts: ConfigOptions): Promise<string> {
  if (key === 'apiKey' && valueArg !== undefined) {
    throw new UsageError(
      'the API key is not taken from the command line (it would stay in your shell history and show in the process list): ' +
        'run `tether config set apiKey` and type it at the hidden prompt, or pipe it with `tether config set apiKey --stdin`',
    );
  }
  if (valueArg !== undefined && opts.stdin) throw new UsageError(`give the value of ${key} either as an argument or with --stdin, not both`);
  let value: string;
  if (valueArg !== undefined) value = valueArg;
  else if (opts.stdin) value = (await readStdin()).replace(/\r?\n$/, '');
  else if (key !== 'apiKey') throw new UsageError(`give a value: tether config set ${key} VALUE (${EXAMPLES[key]})`);
  else if (process.stdin.isTTY) value = await promptHidden('API key for the model (input hidden): ');
  else throw new UsageError('standard input is not a terminal, so there is no hidden prompt; pipe the key with --stdin');
  if (key === 'apiKey') value = value.trim();
  if (value === '') throw new UsageError(`the value of ${key} is empty; to remove the setting use \`tether config unset ${key}\``);
  return value;
}

function toPatch(key: SettingKey, value: string): ConfigPatch {
  if (key !== 'agentMaxSteps') return { [key]: value };
  if (!/^\d{1,3}$/.test(value.trim())) throw new UsageError(`agentMaxSteps must be ${EXAMPLES.agentMaxSteps}, not "${visible(value)}"`);
  return { agentMaxSteps: Number(value.trim()) };
}

async function patch(client: TetherClient, body: ConfigPatch): Promise<PublicConfig> {
  try {
    return await client.patchConfig(body);
  } catch (err) {
    throw explainPatch(err, client.url);
  }
}

/** What changed, and a warning when the file's value is not the one the server uses. */
function report(key: SettingKey, before: PublicConfig, after: PublicConfig, action: 'set' | 'unset', json: boolean | undefined): void {
  if (json) return void process.stdout.write(safeJson(after, 2) + '\n');
  const s = after.sources[key];
  const done = action === 'set' ? `${key} saved in the server's config file` : `${key} removed from the server's config file`;
  process.stdout.write(`${done}; now: ${visible(shownValue(after, key))} (${visible(describeSource(s))})\n`);
  if (action === 'set' && s.source !== 'file') {
    process.stderr.write(yellow(`warning: ${visible(s.note ?? `the server uses its ${describeSource(s)} value instead`)}`, process.stderr) + '\n');
  }
  if (key === 'modelUrl' && before.sources.apiKey.source === 'file' && after.sources.apiKey.source !== 'file') {
    process.stderr.write(
      'note: the stored apiKey was removed with the old modelUrl (a key is sent only where it was set for); set it again with `tether config set apiKey`\n',
    );
  }
}

export async function setCommand(keyArg: string, valueArg: string | undefined, opts: ConfigOptions): Promise<void> {
  const key = checkKey(keyArg);
  const body = toPatch(key, await readValue(key, valueArg, opts));
  await withClient(opts, async (client) => {
    const before = await client.getConfig();
    report(key, before, await patch(client, body), 'set', opts.json);
  });
}

export async function unsetCommand(keyArg: string, opts: ConfigOptions): Promise<void> {
  const key = checkKey(keyArg);
  await withClient(opts, async (client) => {
    const before = await client.getConfig();
    report(key, before, await patch(client, { [key]: null }), 'unset', opts.json);
  });
}
