// CLI entry: flag parsing with commander; each command's module is imported only when it runs,
// so `tether auth token ...` never loads the server, node-pty or the model SDK.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TetherError } from '../errors.js';
import { EXPIRES_ACCEPTED, PERMISSIONS_ACCEPTED, SHARE_EXPIRES_ACCEPTED } from '../auth/spec.js';
import { visible } from './sanitize.js';
import { tetherPrefix } from './invocation.js';

// Commander hands options over untyped; each action names the type its command takes. Type-only:
// the commands themselves still load lazily, so `tether auth token ...` never loads the server.
type AuthToken = typeof import('./auth-token.js');
type AuthLogin = typeof import('./auth-login.js');
type Arg<F extends (...args: never[]) => unknown, N extends number = 0> = Parameters<F>[N];

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const CA_FILE_HELP = 'for an https server: trust the CA certificates in this PEM file instead of the system ones (default: TETHER_CA_FILE)';
const URL_HELP = 'server URL (default: TETHER_URL, or http://127.0.0.1:4096)';

/** `name` is how the user runs tether here (see invocation.ts), shown in usage lines. */
export function buildProgram(name = 'tether'): Command {
  const program = new Command(name)
    .description('A secure-by-default server for an AI coding agent')
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  const auth = program.command('auth').description('manage access tokens and client credentials');
  const token = auth.command('token').description('create, list and delete access tokens (stored as hashes)');

  token
    .command('create')
    .description('create a token and print it once')
    .option('--name <name>', 'unique name (default: generated, e.g. token-3)')
    .option('--permissions <list>', `${PERMISSIONS_ACCEPTED} (default: all)`)
    .option('--expires <spec>', `${EXPIRES_ACCEPTED} (default: 90d)`)
    .option(
      '--scope <dir>',
      'confine the token to this directory (repeatable; stored as its real path): files, terminals and sessions only inside',
      (dir: string, prev: string[] = []) => [...prev, dir],
    )
    .option('--json', 'print one JSON object, including the token, for scripts')
    .action(async (opts: Arg<AuthToken['createCommand']>) => (await import('./auth-token.js')).createCommand(opts));

  token
    .command('list')
    .description('list tokens (never secrets or hashes)')
    .option('--json', 'print JSON')
    .action(async (opts: Arg<AuthToken['listCommand']>) => (await import('./auth-token.js')).listCommand(opts));

  token
    .command('delete')
    .description('delete tokens by id or name: all or nothing')
    .argument('<id-or-name...>', 'token ids or names')
    .action(async (refs: string[]) => (await import('./auth-token.js')).deleteCommand(refs));

  auth
    .command('login')
    .description('save a token for a server (checked with GET /auth/whoami)')
    .argument('[url]', 'server URL (default: --url, TETHER_URL, or http://127.0.0.1:4096)')
    .option('--url <url>', 'server URL')
    .option('--token-stdin', 'read the token from standard input instead of a hidden prompt')
    .option('--allow-http', 'allow plain http:// to a host other than this machine, and save that choice (the token is sent unencrypted)')
    .option('--ca-file <file>', CA_FILE_HELP)
    .action(async (url: string | undefined, opts: Arg<AuthLogin['loginCommand'], 1>) => (await import('./auth-login.js')).loginCommand(url, opts));

  auth
    .command('logout')
    .description("remove a server's saved token")
    .argument('[url]', 'server URL (default: --url, TETHER_URL, or http://127.0.0.1:4096)')
    .option('--url <url>', 'server URL')
    .action(async (url: string | undefined, opts: Arg<AuthLogin['logoutCommand'], 1>) => (await import('./auth-login.js')).logoutCommand(url, opts));

  const status = auth
    .command('status')
    .description('who you are on a server: token name, permissions, expiry')
    .argument('[url]', 'server URL (default: --url, TETHER_URL, or http://127.0.0.1:4096)')
    .option('--json', 'print JSON');
  clientOptions(status, { url: 'server URL', token: 'token to use (default: TETHER_TOKEN, then the saved credentials)' }).action(
    async (url: string | undefined, opts: Arg<AuthLogin['statusCommand'], 1>) => (await import('./auth-login.js')).statusCommand(url, opts),
  );

  const share = program
    .command('share')
    .description('a read-only link to watch one terminal or session: expires, shown once, revoked with `tether auth token delete`');
  for (const [type, noun, example] of [
    ['pty', 'terminal', 'pty_0123456789abcdef'],
    ['session', 'agent session', 'ses_3q2ZK7m9TgWv0xYbL1cR8A'],
  ] as const) {
    const cmd = share
      .command(type)
      .description(`print a link that lets whoever holds it watch this ${noun} (and nothing else) until it expires`)
      .argument('<id>', `the ${noun}'s id, e.g. ${example}`)
      .option('--expires <spec>', `${SHARE_EXPIRES_ACCEPTED} (default: 1h)`)
      .option('--name <name>', 'token name (default: share-<id>-<random>)')
      .option('--json', 'print one JSON object {id, name, target, expiresAt, url}');
    clientOptions(cmd, {
      url: 'server URL (default: TETHER_URL, or http://127.0.0.1:4096); the link uses the address you reach it at',
      token: 'token (default: TETHER_TOKEN, then the saved credentials); needs read, write and execute',
    }).action(async (id: string, opts: Arg<typeof import('./share.js').shareCommand, 2>) => (await import('./share.js')).shareCommand(type, id, opts));
  }

  const pair = program
    .command('pair')
    .description('pair a phone or another browser: print a one-time link and QR code (valid 5 minutes) that gives it a token of its own, and wait')
    .option('--name <name>', "the device token's name (default: after its browser, e.g. Chrome-on-Android)")
    .option('--permissions <list>', `${PERMISSIONS_ACCEPTED} (default: those of the token you pair with; never more)`)
    .option('--expires <spec>', `${EXPIRES_ACCEPTED} (default: 90d, or your token's expiry if sooner)`)
    .option('--scope <dir>', "confine the device to this directory on the server (repeatable; default: your token's scopes)", collect)
    .option('--json', 'print JSON lines (the link, then the outcome) instead of the QR code');
  clientOptions(pair, {
    url: 'server URL, also the base of the link (default: TETHER_URL, or http://127.0.0.1:4096)',
    allowHttp: 'allow plain http:// to a host other than this machine (the token and the code are sent unencrypted)',
  }).action(async (opts: Arg<typeof import('./pair.js').pairCommand>) => (await import('./pair.js')).pairCommand(opts));

  const attach = program
    .command('attach')
    .description('open a remote terminal here (Ctrl-] detaches; exits with the remote exit code)')
    .argument('[command...]', 'for a new terminal: the program and its arguments, after -- (e.g. -- vim -u NONE notes.txt)')
    .option('--pty <id>', 'attach to this terminal (default: create a new one)')
    .option('--view', 'with --pty: watch only; nothing you type is sent (any token that may attach, or a share link token)')
    .option('--command <cmd>', "for a new terminal: the program to run, without arguments (default: the server's shell)");
  clientOptions(attach).action(async (command: string[], opts: Arg<typeof import('./attach.js').attachCommand>) =>
    (await import('./attach.js')).attachCommand(opts, command),
  );

  const run = program
    .command('run')
    .description('send a message to a session and print the streamed reply, or run a shell command with --shell')
    .argument('[message]', 'what to ask the agent')
    .option('--session <id>', "continue this session (default: a new one; with --shell, the project's shell session)")
    .option('--new-session', 'with --shell: use a new session instead of the shared "shell" one')
    .option('--title <title>', 'title for a new session (default: from the first message)')
    .option('--shell <command>', 'run this shell command in the session and exit with its exit code')
    .option('--timeout <ms>', 'with --shell: kill the command after this many milliseconds (default 60000)')
    .option('--raw', 'print the reply (or --shell output) exactly as sent, escape sequences included (default: stripped)');
  clientOptions(run).action(async (message: string | undefined, opts: Arg<typeof import('./run.js').runCommand, 1>) =>
    (await import('./run.js')).runCommand(message, opts),
  );

  registerConfig(program);

  program
    .command('audit')
    .description('show the audit log (read from the file: works while the server is down)')
    .option('--since <spec>', 'only events since: a duration (30m, 1h, 7d) or an ISO 8601 date or time')
    .option('--token <name-or-id>', "only this token's events")
    .option('--kind <list>', 'only these kinds or groups, comma-separated (e.g. pty,shell.exit,auth.failure)')
    .option('--limit <n>', 'the newest n matching events (1 to 10000, default 1000)')
    .option('--follow', 'keep printing new events as they are written (Ctrl-C stops)')
    .option('--json', 'print one JSON object per line')
    .action(async (opts: Arg<typeof import('./audit.js').auditCommand>) => (await import('./audit.js')).auditCommand(opts));

  program
    .command('serve')
    .description('run the server (auth on by default)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '4096')
    .option('--hostname <host>', 'address to bind', '127.0.0.1')
    .option('--project <dir>', 'project directory; file endpoints are confined to it (default: current directory)')
    .option('--cors <origin>', 'allow cross-origin requests from this exact origin (repeatable)', collect)
    .option('--allowed-host <host>', 'also accept this Host header name (repeatable)', collect)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--no-auth', 'DANGEROUS: serve without authentication (loopback hosts only)')
    .action(async (opts: Arg<typeof import('./serve.js').serveCommand>) => (await import('./serve.js')).serveCommand(opts, version()));

  return program;
}

/** `tether config [get|set|unset]`: the server's settings (src/cli/config.ts). */
function registerConfig(program: Command): void {
  type Config = typeof import('./config.js');
  const config = program
    .command('config')
    .description("show or change the server's settings (model, API key, shell...), each with its source: environment, config file or default");
  const common = (c: Command) => clientOptions(c).option('--json', 'print JSON');
  common(config.command('list', { isDefault: true }).description('every setting with its value and source (the default)')).action(
    async (opts: Arg<Config['listCommand']>) => (await import('./config.js')).listCommand(opts),
  );
  common(
    config.command('get').description("one setting's value (exit 1 if it is not set)").argument('<key>', 'modelUrl, model, apiKey, shell or agentMaxSteps'),
  ).action(async (key: string, opts: Arg<Config['getCommand'], 1>) => (await import('./config.js')).getCommand(key, opts));
  common(
    config
      .command('set')
      .description("change a setting in the server's config file (needs write and execute)")
      .argument('<key>', 'modelUrl, model, apiKey, shell or agentMaxSteps')
      .argument('[value]', 'the value (never for apiKey: it is read from a hidden prompt or --stdin)')
      .option('--stdin', 'read the value from standard input'),
  ).action(async (key: string, value: string | undefined, opts: Arg<Config['setCommand'], 2>) => (await import('./config.js')).setCommand(key, value, opts));
  common(
    config.command('unset').description("remove a setting from the server's config file (needs write and execute)").argument('<key>', 'the setting'),
  ).action(async (key: string, opts: Arg<Config['unsetCommand'], 1>) => (await import('./config.js')).unsetCommand(key, opts));
}

/** The options every command that talks to a server takes: where, with which token, and how to
 * trust it. One place, so that none of them lacks one (`--ca-file` was missing on three). */
function clientOptions(c: Command, help: { url?: string; token?: string; allowHttp?: string } = {}): Command {
  return c
    .option('--url <url>', help.url ?? URL_HELP)
    .option('--token <token>', help.token ?? 'token (default: TETHER_TOKEN, then the saved credentials)')
    .option('--allow-http', help.allowHttp ?? 'allow plain http:// to a host other than this machine (the token is sent unencrypted)')
    .option('--ca-file <file>', CA_FILE_HELP);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram(tetherPrefix());
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version exit 0; every other commander error is a usage error.
    return err.exitCode === 0 ? 0 : 2;
  }
  // Error messages can carry server text: shown through the sanitiser, one line each.
  if (err instanceof TetherError) {
    process.stderr.write(`tether: ${visible(err.message)}\n`);
    return err.exitCode;
  }
  // A bug, not a refusal: the stack helps a report (still sanitised; its lines kept).
  process.stderr.write(`tether: unexpected error: ${visible(err instanceof Error ? (err.stack ?? err.message) : String(err), { newlines: true })}\n`);
  return 1;
}

// Not awaited at the top level: the CLI is bundled as CommonJS (launch.ts); main() handles its own errors.
void main();
