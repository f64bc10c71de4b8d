// `tether auth login [url]`, `logout [url]`, `status [url]`. The server is the argument, else --url,
// else TETHER_URL, else http://127.0.0.1:4096, as for every client command.
import { isPlainHttpToNetwork } from '../client/loopback.js';
import { DEFAULT_URL, normalizeServerUrl, removeCredential, saveCredential, credentialsFilePath } from '../client/saved-credentials.js';
import { parseToken, describeMalformed } from '../auth/token-format.js';
import { UsageError } from '../errors.js';
import { cliError, loadCa, makeClient, withClient } from './client-common.js';
import { relative } from './output.js';
import { promptHidden, readStdin } from './secret-input.js';
import { safeJson, visible } from './sanitize.js';

/** The server a login/logout is about: argument, --url, TETHER_URL, default. */
function serverUrl(urlArg: string | undefined, flagUrl: string | undefined): string {
  return normalizeServerUrl(urlArg || flagUrl || process.env.TETHER_URL || DEFAULT_URL);
}

export async function loginCommand(
  urlArg: string | undefined,
  opts: { url?: string; tokenStdin?: boolean; allowHttp?: boolean; caFile?: string },
): Promise<void> {
  const url = serverUrl(urlArg, opts.url);
  const plainHttp = isPlainHttpToNetwork(url);
  const ca = loadCa(url, opts.caFile || process.env.TETHER_CA_FILE, Boolean(opts.caFile));
  // Refused before the token is typed: it would have nowhere safe to go.
  makeClient(url, null, Boolean(opts.allowHttp), ca);
  if (plainHttp) {
    process.stderr.write(
      `warning: --allow-http: the token for ${url} travels unencrypted; anyone on the network path can read and use it. ` +
        'Commands for this server will use plain HTTP without asking again (log in again without --allow-http to undo).\n',
    );
  }
  let token: string;
  if (opts.tokenStdin) token = (await readStdin()).trim();
  else if (process.stdin.isTTY) token = (await promptHidden(`Token for ${url}: `)).trim();
  else throw new UsageError('standard input is not a terminal, so there is no hidden prompt; pipe the token with --token-stdin');
  const parsed = parseToken(token);
  // describeMalformed says what is wrong with it ("token must start with ..."): the frame says it once.
  if (!parsed.ok) throw new UsageError(`that is not a tether token: ${describeMalformed(parsed.detail)}`);
  const client = makeClient(url, token, Boolean(opts.allowHttp), ca);
  let who;
  try {
    who = await client.whoami();
  } catch (err) {
    throw cliError(err, url);
  }
  await saveCredential(url, { token, tokenId: who.id, name: who.name, savedAt: new Date().toISOString(), ...(plainHttp ? { allowHttp: true } : {}) });
  process.stdout.write(
    `Logged in to ${url} as ${visible(who.name)} (${visible(who.id)}); permissions: ${who.permissions.join(', ')}; ` +
      `${who.expiresAt ? `expires ${visible(who.expiresAt)} (${relative(who.expiresAt)})` : 'never expires'}.\n` +
      `Saved in ${visible(credentialsFilePath())} (mode 0600).\n`,
  );
}

export async function logoutCommand(urlArg: string | undefined, opts: { url?: string } = {}): Promise<void> {
  const url = serverUrl(urlArg, opts.url);
  const had = await removeCredential(url);
  process.stdout.write(had ? `Logged out of ${url}: its saved token was removed.\n` : `No saved token for ${url}; nothing to do.\n`);
}

export async function statusCommand(
  urlArg: string | undefined,
  flags: { url?: string; token?: string; json?: boolean; allowHttp?: boolean; caFile?: string },
): Promise<void> {
  await withClient({ ...flags, url: urlArg ?? flags.url }, async (client, target) => {
    const who = await client.whoami();
    if (flags.json) {
      process.stdout.write(
        safeJson({
          url: target.url,
          tokenSource: target.tokenSource,
          id: who.id,
          name: who.name,
          permissions: who.permissions,
          expiresAt: who.expiresAt,
          authenticatedBy: who.authenticatedBy,
          ...(who.scopes && { scopes: who.scopes }),
        }) + '\n',
      );
      return;
    }
    process.stdout.write(
      `${target.url}: ${visible(who.name)} (${visible(who.id ?? 'no auth')})\n` +
        `  permissions: ${who.permissions.join(', ')}\n` +
        `  expires:     ${who.expiresAt ? `${visible(who.expiresAt)} (${relative(who.expiresAt)})` : 'never'}\n` +
        (who.scopes ? `  scopes:      ${who.scopes.map((d) => visible(d)).join(', ')}\n` : '') +
        `  token from:  ${visible({ flag: '--token', env: 'TETHER_TOKEN', credentials: credentialsFilePath(), none: 'none' }[target.tokenSource])}\n` +
        (target.allowHttp && isPlainHttpToNetwork(target.url) ? '  transport:   plain HTTP (allowed by --allow-http): the token is not encrypted\n' : ''),
    );
  });
}
