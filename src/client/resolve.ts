// Which server and which token a client command uses:
// server: --url, else TETHER_URL, else http://127.0.0.1:4096;
// token: --token, else TETHER_TOKEN, else the credentials file entry for that server.
import { DEFAULT_URL, loadCredential, normalizeServerUrl } from './credentials.js';

export type TokenSource = 'flag' | 'env' | 'credentials' | 'none';

export interface Target {
  url: string;
  token: string | null;
  tokenSource: TokenSource;
}

export async function resolveTarget(opts: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const url = normalizeServerUrl(opts.url || env.TETHER_URL || DEFAULT_URL);
  if (opts.token) return { url, token: opts.token, tokenSource: 'flag' };
  if (env.TETHER_TOKEN) return { url, token: env.TETHER_TOKEN, tokenSource: 'env' };
  const saved = await loadCredential(url);
  return saved ? { url, token: saved.token, tokenSource: 'credentials' } : { url, token: null, tokenSource: 'none' };
}
