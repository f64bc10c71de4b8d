// `tether auth token create|list|delete`. Flag parsing and printing only; the work is in auth/tokens.
import { createToken, deleteTokens, listTokens, defaultExpiry } from '../auth/token-admin.js';
import { parseExpiry, parsePermissionList } from '../auth/spec.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { tokenFilePath } from '../auth/token-file.js';
import { CLI_ADDRESS } from '../audit/kinds.js';
import { recordOnce } from '../audit/log.js';
import { bold, yellow, dim, relative, shortTime, table } from './output.js';

export interface CreateOptions {
  name?: string;
  permissions?: string;
  expires?: string;
  json?: boolean;
}

export async function createCommand(opts: CreateOptions): Promise<void> {
  const permissions = opts.permissions === undefined ? [...PERMISSIONS] : parsePermissionList(opts.permissions);
  const expiresAt = opts.expires === undefined ? defaultExpiry() : parseExpiry(opts.expires);
  const { token, record } = await createToken({ name: opts.name, permissions, expiresAt });
  recordOnce(
    'token.create',
    { tokenId: record.id, tokenName: record.name, address: CLI_ADDRESS },
    { permissions: record.permissions, expiresAt: record.expiresAt, ...(record.scopes ? { scopes: record.scopes } : {}) },
  );
  if (opts.json) {
    const { hash: _hash, ...pub } = record;
    process.stdout.write(JSON.stringify({ ...pub, token }) + '\n');
    return;
  }
  const expires = record.expiresAt === null ? 'never' : `${record.expiresAt} (${relative(record.expiresAt)})`;
  process.stdout.write(
    `Created token ${bold(record.name)} (${record.id})\n` +
      `  permissions: ${record.permissions.join(', ')}\n` +
      `  expires:     ${expires}\n\n` +
      `  ${bold(token)}\n\n` +
      yellow('This token is shown only once and cannot be recovered: tether stores only its hash.') +
      '\nCopy it now, e.g. into a password manager or `tether auth login`.\n',
  );
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const tokens = await listTokens();
  if (opts.json) {
    process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
    return;
  }
  if (tokens.length === 0) {
    process.stdout.write(`No tokens yet. Create one with: tether auth token create --name NAME\n${dim(`(store: ${tokenFilePath()})`)}\n`);
    return;
  }
  process.stdout.write(
    table(
      ['ID', 'NAME', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'],
      tokens.map((t) => [t.id, t.name, t.permissions.join(','), shortTime(t.createdAt), shortTime(t.expiresAt), shortTime(t.lastUsedAt), t.status]),
    ),
  );
}

export async function deleteCommand(refs: string[]): Promise<void> {
  const deleted = await deleteTokens(refs);
  for (const t of deleted) recordOnce('token.delete', { tokenId: t.id, tokenName: t.name, address: CLI_ADDRESS }, {});
  for (const t of deleted) process.stdout.write(`Deleted token ${t.name} (${t.id})\n`);
}
