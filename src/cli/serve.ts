// `tether serve`: validates flags, refuses unsafe combinations, starts the server, and shuts it
// down gracefully on SIGINT/SIGTERM.
import dns from 'node:dns/promises';
import fs from 'node:fs';
import path from 'node:path';
import { TetherError, UsageError, errorMessage } from '../errors.js';
import { isLoopbackAddress } from '../auth/address.js';
import { noAuthRefusal } from '../server/hosts.js';
import { listTokens, createToken, defaultExpiry } from '../auth/token-admin.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { tokenFilePath } from '../auth/token-file.js';
import { reservedWarning } from '../fs/reserved.js';
import { CLI_ADDRESS } from '../audit/kinds.js';
import { recordOnce } from '../audit/log.js';
import { bold, red, yellow } from './output.js';
import { shellWord, tetherCommand } from './invocation.js';
import { checkTlsPair } from './tls-files.js';

export interface ServeOptions {
  port: string;
  hostname: string;
  project?: string;
  cors?: string[];
  allowedHost?: string[];
  tlsCert?: string;
  tlsKey?: string;
  auth: boolean;
}

export function parsePort(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${v}"`);
  return Number(v);
}

export function parseOrigin(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new UsageError(`--cors needs an origin like https://app.example.com, not "${v}"`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.origin === 'null' || u.origin !== v.replace(/\/$/, '')) {
    throw new UsageError(`--cors needs an exact origin (scheme://host[:port], no path, no "*"), not "${v}"`);
  }
  return u.origin;
}

/** The certificate and key, checked before anything listens: a problem is one line naming the file (exit 1). */
function readTls(opts: ServeOptions): { cert: Buffer; key: Buffer; selfSigned: boolean } | undefined {
  if (!opts.tlsCert && !opts.tlsKey) return undefined;
  if (!opts.tlsCert || !opts.tlsKey) throw new UsageError('--tls-cert and --tls-key go together: give both or neither');
  const read = (flag: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new TetherError('bad_tls_file', `${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`, 500, 1);
    }
  };
  const pair = { cert: read('--tls-cert', opts.tlsCert), key: read('--tls-key', opts.tlsKey) };
  return { ...pair, ...checkTlsPair(pair, { cert: opts.tlsCert, key: opts.tlsKey }) };
}

export async function serveCommand(opts: ServeOptions, version: string): Promise<void> {
  const port = parsePort(opts.port);
  const hostname = opts.hostname.replace(/^\[|\]$/g, '');
  const cors = (opts.cors ?? []).map(parseOrigin);
  const projectDir = path.resolve(opts.project ?? process.cwd());
  if (!fs.existsSync(projectDir) || !fs.statSync(projectDir).isDirectory()) {
    throw new UsageError(`--project ${projectDir} is not an existing directory`);
  }
  if (!opts.auth) await checkNoAuthHost(hostname);
  const tls = readTls(opts);

  // Created before the server reads the token file; announced once the URL (and port) is known.
  const firstRun = opts.auth ? await ensureFirstToken() : null;

  const { startServer } = await import('../server/server.js');
  const { productionRegistrars } = await import('../server/routes/index.js');
  const server = await startServer({
    port,
    hostname,
    projectDir,
    auth: opts.auth,
    cors,
    allowedHosts: opts.allowedHost ?? [],
    tls: tls && { cert: tls.cert, key: tls.key },
    version,
    registrars: await productionRegistrars(),
  });
  // The name was checked; the address listen() actually bound is what matters.
  if (!opts.auth && !isLoopbackAddress(server.address)) {
    await server.close();
    throw new UsageError(
      `--no-auth is refused: --hostname ${hostname} was bound to ${server.address}, which is not a loopback address. ` +
        'Use --no-auth only with a loopback host, or keep auth on.',
    );
  }
  // Signal handlers before anything is announced: a SIGTERM sent the moment "listening" appears
  // must shut down gracefully, not kill the process with the default action.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`tether: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`tether: ${signal} received, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`tether: error while shutting down: ${errorMessage(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Warnings first: whoever waits for "listening" has them already.
  const reservedNote = reservedWarning(server.ctx.projectDir, server.ctx.reserved);
  if (reservedNote) process.stderr.write(yellow(`${reservedNote}\n`, process.stderr));
  // The start-up line (server.start) is the audit log's check: say so now if it could not be written.
  const audit = server.ctx.audit.status();
  if (!audit.ok) {
    process.stderr.write(
      yellow(
        `WARNING: the audit log ${audit.file} cannot be written (${audit.error}). The server runs, but what happens is not recorded ` +
          'until this is fixed; failures are reported in the log once a minute.\n',
        process.stderr,
      ),
    );
  }
  if (!opts.auth) {
    process.stderr.write(
      red(
        'WARNING: authentication is OFF (--no-auth). Any program or web page on this machine that can reach ' +
          `${server.url} can read your files and run commands as you.\n`,
        process.stderr,
      ),
    );
  }
  // A self-signed certificate is its own CA: the hints pass it to curl and the client.
  if (firstRun) announceFirstRun(firstRun, server.url, tls?.selfSigned ? opts.tlsCert! : null);
  process.stdout.write(`tether ${version} listening on ${bold(server.url)} (auth: ${opts.auth ? 'on' : 'OFF'})\n`);
  process.stdout.write(`project: ${server.ctx.projectDir}\n`);
}

export type Lookup = (hostname: string) => Promise<{ address: string }[]>;

const lookupAll: Lookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/** --no-auth only if every address `hostname` resolves to is loopback (see noAuthRefusal). */
export async function checkNoAuthHost(hostname: string, lookup: Lookup = lookupAll): Promise<void> {
  let resolved: { address: string }[];
  try {
    resolved = await lookup(hostname);
  } catch (err) {
    throw new UsageError(
      `--no-auth is refused with --hostname ${hostname}: it does not resolve (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}). Use --no-auth only with a loopback host (127.0.0.1, ::1, localhost), or keep auth on.`,
    );
  }
  const problem = noAuthRefusal(
    hostname,
    resolved.map((r) => r.address),
  );
  if (problem) throw new UsageError(problem);
}

type FirstRun = { kind: 'none' } | { kind: 'created'; token: string; name: string; id: string; expiresAt: string | null };

/** With no active token: on a terminal, create one (shown once, by announceFirstRun); otherwise say how. */
async function ensureFirstToken(): Promise<FirstRun | null> {
  const tokens = await listTokens();
  if (tokens.some((t) => t.status === 'active')) return null;
  if (!process.stdout.isTTY) return { kind: 'none' };
  const names = new Set(tokens.map((t) => t.name));
  let name = 'first-run';
  for (let n = 2; names.has(name); n++) name = `first-run-${n}`;
  const { token, record } = await createToken({ name, permissions: [...PERMISSIONS], expiresAt: defaultExpiry() });
  recordOnce(
    'token.create',
    { tokenId: record.id, tokenName: record.name, address: CLI_ADDRESS },
    { permissions: record.permissions, expiresAt: record.expiresAt, firstRun: true },
  );
  return { kind: 'created', token, name: record.name, id: record.id, expiresAt: record.expiresAt };
}

function announceFirstRun(first: FirstRun, url: string, caFile: string | null): void {
  if (first.kind === 'none') {
    process.stdout.write(
      `No active token in ${tokenFilePath()}: every request will get 401 until you create one:\n` + `  ${tetherCommand('auth token create --name NAME')}\n`,
    );
    return;
  }
  const ca = caFile ? shellWord(path.resolve(caFile)) : null;
  process.stdout.write(
    `No active token was found, so one was created (${first.name}, ${first.id}, all permissions, expires ${first.expiresAt}):\n\n` +
      `  ${bold(first.token)}\n\n` +
      yellow('It is shown only once. Save it now.') +
      `\nTry it:\n  curl ${ca ? `--cacert ${ca} ` : ''}-H "Authorization: Bearer ${first.token}" ${url}/auth/whoami\n` +
      `Save it for the tether client (it asks for the token):\n  ${tetherCommand(`auth login ${url}${ca ? ` --ca-file ${ca}` : ''}`)}\n\n`,
  );
}
