// `tether pair`: asks the running server for a one-time pairing code, prints the link
// (`<server>/pair#<code>`) and the same link as a QR code, then waits until the device has paired.
// Ctrl-C cancels the code. Flag parsing and printing only; the server decides what may be granted.
import path from 'node:path';
import type { PairingCodeRequest, PairingStatus } from '../client/types.js';
import { ApiError } from '../client/errors.js';
import { isLoopbackUrl, isPlainHttpToNetwork } from '../client/loopback.js';
import type { TetherClient } from '../client/client.js';
import { parseExpiry, parsePermissionList } from '../auth/spec.js';
import { NAME_RULE, isValidName } from '../auth/token-record.js';
import { TetherError, UsageError } from '../errors.js';
import { withClient, type ClientFlags } from './client-common.js';
import { bold, dim, green, relative, yellow } from './output.js';
import { safeJson, visible } from './sanitize.js';

export interface PairOptions extends ClientFlags {
  name?: string;
  permissions?: string;
  expires?: string;
  scope?: string[];
  json?: boolean;
}

/** How often the code's state is asked for while waiting. */
const POLL_MS = 500;

/** The request body from the flags; each problem is a usage error naming the flag. */
export function pairingRequest(opts: PairOptions, cwd = process.cwd()): PairingCodeRequest {
  const body: PairingCodeRequest = {};
  if (opts.name !== undefined) {
    if (!isValidName(opts.name)) throw new UsageError(`invalid --name "${opts.name}"; a name is ${NAME_RULE}`);
    body.name = opts.name;
  }
  if (opts.permissions !== undefined) body.permissions = parsePermissionList(opts.permissions);
  if (opts.expires !== undefined) body.expiresAt = parseExpiry(opts.expires);
  // Paths on the server: relative ones are taken from here (the server resolves and checks them).
  if (opts.scope !== undefined && opts.scope.length > 0) body.scopes = opts.scope.map((s) => path.resolve(cwd, s));
  return body;
}

export async function pairCommand(opts: PairOptions): Promise<void> {
  const body = pairingRequest(opts);
  // Ctrl-C cancels the code: listened for before the code exists, so that no signal in between
  // kills the command and leaves a live code behind.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await withClient(opts, async (client) => {
      const created = await client.createPairingCode(body);
      const link = `${client.url}/pair#${created.code}`;
      if (opts.json) process.stdout.write(safeJson({ id: created.id, link, expiresAt: created.expiresAt, grant: created.grant }) + '\n');
      else await printCode(created, link);
      const final = await waitForDevice(client, created.id, POLL_MS, stop.signal);
      if (opts.json) process.stdout.write(safeJson(final) + '\n');
      else printOutcome(final);
      if (final.state !== 'paired') process.exitCode = 1;
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function printCode(created: PairingStatus, link: string): Promise<void> {
  const { default: QRCode } = await import('qrcode');
  // On a terminal, drawn with colours (readable on any theme); into a file or pipe, plain blocks.
  const qr = process.stdout.isTTY ? await QRCode.toString(link, { type: 'terminal', small: true }) : await QRCode.toString(link, { type: 'utf8' });
  const g = created.grant;
  const lines = [
    `Pairing code for a new device: single use, valid until ${new Date(created.expiresAt).toLocaleTimeString()} (5 minutes)`,
    `  name:        ${g.name === null ? "the device's browser (e.g. Chrome-on-Android)" : visible(g.name)}`,
    `  permissions: ${g.permissions.join(', ')}`,
    `  expires:     ${g.expiresAt === null ? 'never' : `${g.expiresAt} (${relative(g.expiresAt)})`}`,
    ...(g.scopes ? [`  scopes:      ${g.scopes.map((s) => visible(s)).join(', ')}`] : []),
    '',
    qr.trimEnd(),
    '',
    `  ${bold(visible(link))}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  if (isLoopbackUrl(link)) {
    process.stderr.write(
      yellow('warning: this link names a loopback address, which only this machine can open. ', process.stderr) +
        'For a phone, serve on an address it can reach (e.g. --hostname 0.0.0.0, with --tls-cert/--tls-key) and run `tether pair --url https://<that address>:<port>`.\n',
    );
  } else if (isPlainHttpToNetwork(link)) {
    process.stderr.write(
      yellow('warning: plain http: ', process.stderr) +
        'the code and the device login cross the network unencrypted; serve with --tls-cert/--tls-key where you can.\n',
    );
  }
  process.stdout.write(`Open the link on the device, or scan the QR code. Waiting for the device... ${dim('(Ctrl-C cancels the code)')}\n`);
}

function printOutcome(s: PairingStatus): void {
  if (s.state === 'paired' && s.device) {
    const name = visible(s.device.name);
    process.stdout.write(
      green(`Paired: ${name} (${visible(s.device.id)}).`) + ` It is listed by \`tether auth token list\`; \`tether auth token delete ${name}\` logs it out.\n`,
    );
    return;
  }
  const why: Record<string, string> = {
    expired: 'the pairing code expired (5 minutes) before a device used it; run `tether pair` again',
    cancelled: 'the pairing code was cancelled; it no longer works',
    failed: 'a device used the code, but the pairing failed (see the server log); run `tether pair` again',
  };
  process.stderr.write(`tether: ${why[s.state] ?? `the pairing code is ${s.state}`}\n`);
}

/**
 * Asks for the code's state until it is no longer pending. An abort (Ctrl-C) cancels the code on
 * the server and resolves with the cancelled state.
 */
async function waitForDevice(client: TetherClient, id: string, pollMs: number, stop: AbortSignal): Promise<PairingStatus> {
  for (;;) {
    await sleep(pollMs, stop);
    if (stop.aborted) return cancel(client, id);
    let s: PairingStatus;
    try {
      s = await client.pairingStatus(id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        throw new TetherError('pairing_gone', 'the server no longer knows this pairing code (it restarted?); run `tether pair` again', 404, 1);
      }
      throw err;
    }
    if (s.state !== 'pending') return s;
  }
}

async function cancel(client: TetherClient, id: string): Promise<PairingStatus> {
  try {
    await client.cancelPairing(id);
  } catch (err) {
    // Used or expired meanwhile: report what it became.
    if (!(err instanceof ApiError && err.status === 409)) throw err;
  }
  return client.pairingStatus(id);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
