// Shared by the client commands (login, status, attach, run): resolve server + token, build the
// client, and turn client errors into one clear line and an exit code.
import { TetherError, UsageError } from '../errors.js';
import { TetherClient } from '../client/client.js';
import {
  ApiError,
  ConnectionError,
  PlainHttpError,
  ProtocolError,
  RedirectError,
  certificateAdvice,
  explainApiError,
  plainHttpRefusal,
} from '../client/errors.js';
import { readCaFile } from '../client/https-ca.js';
import { resolveTarget, type Target } from '../client/resolve.js';
import { tetherCommand } from './invocation.js';

export interface ClientFlags {
  url?: string;
  token?: string;
  allowHttp?: boolean;
  caFile?: string;
}

/** The CA certificates to trust for `url`: only for https, read from --ca-file / TETHER_CA_FILE. */
export function loadCa(url: string, caFile: string | null | undefined, fromFlag: boolean): Buffer | undefined {
  if (!caFile || !url.startsWith('https:')) return undefined;
  return readCaFile(caFile, fromFlag ? '--ca-file' : 'TETHER_CA_FILE');
}

/** Builds a client; plain http to another host without the opt-in is a usage error (exit 2). */
export function makeClient(url: string, token: string | null, allowHttp: boolean, ca?: Buffer): TetherClient {
  try {
    return new TetherClient({ url, token, allowHttp, ...(ca ? { ca } : {}) });
  } catch (err) {
    throw cliError(err, url);
  }
}

export async function connect(flags: ClientFlags, { requireToken = true } = {}): Promise<{ client: TetherClient; target: Target }> {
  const target = await resolveTarget(flags);
  if (requireToken && !target.token) {
    throw new TetherError(
      'not_logged_in',
      `no token for ${target.url}: log in with \`${tetherCommand(`auth login ${target.url}`)}\`, or pass --token / set TETHER_TOKEN`,
      401,
      1,
    );
  }
  const ca = loadCa(target.url, target.caFile, Boolean(flags.caFile));
  return { client: makeClient(target.url, target.token, target.allowHttp, ca), target };
}

/** Maps client errors to a TetherError the CLI prints as one line. */
export function cliError(err: unknown, url: string): unknown {
  if (err instanceof ApiError) return new TetherError(err.code, explainApiError(err, url, tetherCommand), err.status, 1);
  if (err instanceof ConnectionError) {
    const advice = certificateAdvice(err.code);
    return new TetherError('connection_failed', `${err.message} (${advice ?? `is \`${tetherCommand('serve')}\` running?`})`, 503, 1);
  }
  if (err instanceof RedirectError) return new TetherError('redirect_refused', err.message, 502, 1);
  if (err instanceof ProtocolError) return new TetherError('bad_response', err.message, 502, 1);
  if (err instanceof PlainHttpError) return new UsageError(plainHttpRefusal(err.url, tetherCommand), 'plain_http_refused');
  return err;
}

export async function withClient<R>(
  flags: ClientFlags,
  fn: (client: TetherClient, target: Target) => Promise<R>,
  opts?: { requireToken?: boolean },
): Promise<R> {
  const { client, target } = await connect(flags, opts);
  try {
    return await fn(client, target);
  } catch (err) {
    throw cliError(err, target.url);
  }
}
