// Saved client credentials: $XDG_CONFIG_HOME/tether/credentials.json, one token per server URL.
// 0600 in a 0700 directory, locked atomic writes (like the token file). This file holds secrets.
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
  return (await read(file)).servers[normalizeServerUrl(url)] ?? null;
}

async function update(file: string, fn: (d: CredentialsFile) => void): Promise<void> {
  await withFileLock(
    file,
    async () => {
      const d = await read(file);
      fn(d);
      await writePrivateFileAtomic(file, JSON.stringify(d, null, 2) + '\n', 'credentials file');
    },
    { what: 'credentials file' },
  );
}

export async function saveCredential(url: string, cred: SavedCredential, file = credentialsFilePath()): Promise<void> {
  const key = normalizeServerUrl(url);
  await update(file, (d) => {
    d.servers[key] = cred;
  });
}

/** Returns whether there was something to remove. */
export async function removeCredential(url: string, file = credentialsFilePath()): Promise<boolean> {
  const key = normalizeServerUrl(url);
  let had = false;
  await update(file, (d) => {
    had = key in d.servers;
    delete d.servers[key];
  });
  return had;
}
