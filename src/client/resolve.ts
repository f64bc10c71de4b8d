// Which server and which token a client command uses:
// server: --url, else TETHER_URL, else http://127.0.0.1:4096;
// token: --token, else TETHER_TOKEN, else the credentials file entry for that server;
// CA certificates to trust (https): --ca-file, else TETHER_CA_FILE, else the system's.
// Plain http to another host: allowed with --allow-http, or when that server's saved entry says so
// (the user chose it at `auth login --allow-http`; it is a choice about the server, whichever token).
import { DEFAULT_URL, loadCredential, normalizeServerUrl } from './saved-credentials.js';
import { isPlainHttpToNetwork } from './loopback.js';

export type TokenSource = 'flag' | 'env' | 'credentials' | 'none';

export interface Target {
  url: string;
  token: string | null;
  tokenSource: TokenSource;
  allowHttp: boolean;
  /** A PEM file of CA certificates to trust for an https server, or null for the system's. */
  caFile: string | null;
}

export async function resolveTarget(
  opts: { url?: string; token?: string; allowHttp?: boolean; caFile?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  const url = normalizeServerUrl(opts.url || env.TETHER_URL || DEFAULT_URL);
  const caFile = opts.caFile || env.TETHER_CA_FILE || null;
  const explicit = opts.token || env.TETHER_TOKEN;
  // The credentials file is read only when it can matter (a broken one then fails the command).
  const saved = !explicit || (isPlainHttpToNetwork(url) && !opts.allowHttp) ? await loadCredential(url) : null;
  const allowHttp = Boolean(opts.allowHttp || saved?.allowHttp);
  if (opts.token) return { url, token: opts.token, tokenSource: 'flag', allowHttp, caFile };
  if (env.TETHER_TOKEN) return { url, token: env.TETHER_TOKEN, tokenSource: 'env', allowHttp, caFile };
  return saved ? { url, token: saved.token, tokenSource: 'credentials', allowHttp, caFile } : { url, token: null, tokenSource: 'none', allowHttp, caFile };
}
