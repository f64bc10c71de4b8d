// Saved client credentials: $XDG_CONFIG_HOME/tether/credentials.json, one token per server.
// 0600 in a 0700 directory, locked atomic writes (like the token file). This file holds secrets.
//
// Entries are keyed by credentialKey(): one server, one key, however its URL is spelled
// (localhost, 127.0.0.1 and [::1] on the same scheme and port are this machine's server). Files
// written before keys were normalised are read as they are: a lookup matches old keys by their
// normalised form, and the next write stores them normalised (the newest entry wins a collision).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StoreError, UsageError, errorMessage } from '../errors.js';
import { configDir } from '../paths.js';
import { withFileLock, writePrivateFileAtomic } from '../fs/atomic-json.js';

export const DEFAULT_URL = 'http://127.0.0.1:4096';

export interface SavedCredential {
  token: string;
  tokenId: string | null;
  name: string;
  savedAt: string;
  /** The user opted in to plain HTTP to this (non-loopback) server at login (`--allow-http`). */
  allowHttp?: boolean;
}

interface CredentialsFile {
  version: 1;
  servers: Record<string, SavedCredential>;
}

export function credentialsFilePath(): string {
  return path.join(configDir(), 'credentials.json');
}

/** Canonical server key: the origin (scheme://host:port), lower-case, no path. */
export function normalizeServerUrl(input: string): string {
  let u: URL;
  try {
    u = new URL(input.includes('://') ? input : `http://${input}`);
  } catch {
    throw new UsageError(`"${input}" is not a server URL; give one like http://127.0.0.1:4096`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`server URL must be http or https, not "${u.protocol}"`);
  if (u.username || u.password) throw new UsageError('put the token in the credentials, not in the URL');
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) throw new UsageError(`server URL must have no path or query: "${input}"`);
  return u.origin;
}

/** This machine under the names a URL can give it (the IPv4-mapped form of 127.0.0.1 included). */
const THIS_MACHINE = new Set(['localhost', '127.0.0.1', '[::1]', '[::ffff:7f00:1]']);

/** The key a server's credential is saved under: its origin, with this machine spelled 127.0.0.1. */
export function credentialKey(input: string): string {
  const u = new URL(normalizeServerUrl(input));
  if (THIS_MACHINE.has(u.hostname)) u.hostname = '127.0.0.1';
  return u.origin;
}

/** credentialKey, or null for a key an old or hand-edited file holds that is not a server URL. */
function keyOf(stored: string): string | null {
  try {
    return credentialKey(stored);
  } catch {
    return null;
  }
}

/** Of several entries for one server (from before normalised keys), the newest. */
function newer(a: SavedCredential | undefined, b: SavedCredential): SavedCredential {
  if (!a) return b;
  return Date.parse(b.savedAt) > Date.parse(a.savedAt) ? b : a;
}

async function read(file: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, servers: {} };
    throw new StoreError(`cannot read credentials file ${file}: ${errorMessage(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new StoreError(`credentials file ${file} is not valid JSON (${errorMessage(err)}); it was left untouched`);
  }
  const d = data as CredentialsFile;
  if (typeof d !== 'object' || d === null || d.version !== 1 || typeof d.servers !== 'object' || d.servers === null || Array.isArray(d.servers)) {
    throw new StoreError(`credentials file ${file} is not a version 1 credentials file; it was left untouched`);
  }
  for (const [url, c] of Object.entries(d.servers)) {
    if (typeof c?.token !== 'string' || (c.allowHttp !== undefined && typeof c.allowHttp !== 'boolean'))
      throw new StoreError(`credentials file ${file} has an invalid entry for ${url}; it was left untouched`);
  }
  return d;
}

export async function loadCredential(url: string, file = credentialsFilePath()): Promise<SavedCredential | null> {
  const key = credentialKey(url);
  let found: SavedCredential | undefined;
  for (const [stored, cred] of Object.entries((await read(file)).servers)) if (keyOf(stored) === key) found = newer(found, cred);
  return found ?? null;
}

/** Rewrites old keys in normalised form; keys that are not server URLs are kept as they are. */
function migrate(d: CredentialsFile): void {
  const servers: Record<string, SavedCredential> = Object.create(null) as Record<string, SavedCredential>;
  for (const [stored, cred] of Object.entries(d.servers)) {
    const key = keyOf(stored) ?? stored;
    servers[key] = newer(servers[key], cred);
  }
  d.servers = servers;
}

async function update(file: string, fn: (d: CredentialsFile) => void): Promise<void> {
  await withFileLock(
    file,
    async () => {
      const d = await read(file);
      migrate(d);
      fn(d);
      await writePrivateFileAtomic(file, JSON.stringify(d, null, 2) + '\n', 'credentials file');
    },
    { what: 'credentials file' },
  );
}

export async function saveCredential(url: string, cred: SavedCredential, file = credentialsFilePath()): Promise<void> {
  const key = credentialKey(url);
  await update(file, (d) => {
    d.servers[key] = cred;
  });
}

/** Returns whether there was something to remove. */
export async function removeCredential(url: string, file = credentialsFilePath()): Promise<boolean> {
  const key = credentialKey(url);
  let had = false;
  await update(file, (d) => {
    had = key in d.servers;
    delete d.servers[key];
  });
  return had;
}
