// `tether auth token create|list|delete`. Flag parsing and printing only; the work is in auth/tokens.
import { createToken, deleteTokens, listTokens, defaultExpiry } from '../auth/token-admin.js';
import { parseExpiry, parsePermissionList } from '../auth/spec.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { tokenFilePath } from '../auth/token-file.js';
import { resolveScopeDirs } from '../auth/scope-dirs.js';
import { CLI_ADDRESS } from '../audit/kinds.js';
import { recordOnce } from '../audit/log.js';
import { bold, yellow, dim, relative, shortTime, table } from './output.js';
import { safeJson, visible } from './sanitize.js';

export interface CreateOptions {
  name?: string;
  permissions?: string;
  expires?: string;
  /** Repeatable: directories the token is confined to. */
  scope?: string[];
  json?: boolean;
}

export async function createCommand(opts: CreateOptions): Promise<void> {
  const permissions = opts.permissions === undefined ? [...PERMISSIONS] : parsePermissionList(opts.permissions);
  const expiresAt = opts.expires === undefined ? defaultExpiry() : parseExpiry(opts.expires);
  // Resolved (and refused, exit 2) before anything is written.
  const scopes = opts.scope === undefined || opts.scope.length === 0 ? undefined : await resolveScopeDirs(opts.scope);
  const { token, record } = await createToken({ name: opts.name, permissions, expiresAt, ...(scopes && { scopes }) });
  recordOnce(
    'token.create',
    { tokenId: record.id, tokenName: record.name, address: CLI_ADDRESS },
    { permissions: record.permissions, expiresAt: record.expiresAt, ...(record.scopes ? { scopes: record.scopes } : {}) },
  );
  if (opts.json) {
    const { hash: _hash, ...pub } = record;
    process.stdout.write(safeJson({ ...pub, token }) + '\n');
    return;
  }
  const expires = record.expiresAt === null ? 'never' : `${record.expiresAt} (${relative(record.expiresAt)})`;
  process.stdout.write(
    `Created token ${bold(record.name)} (${record.id})\n` +
      `  permissions: ${record.permissions.join(', ')}\n` +
      `  expires:     ${expires}\n` +
      (record.scopes ? `  scopes:      ${record.scopes.map((d) => visible(d)).join(', ')}\n` : '') +
      '\n' +
      `  ${bold(token)}\n\n` +
      yellow('This token is shown only once and cannot be recovered: tether stores only its hash.') +
      '\nCopy it now, e.g. into a password manager or `tether auth login`.\n',
  );
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const tokens = await listTokens();
  if (opts.json) {
    process.stdout.write(safeJson(tokens, 2) + '\n');
    return;
  }
  if (tokens.length === 0) {
    process.stdout.write(`No tokens yet. Create one with: tether auth token create --name NAME\n${dim(`(store: ${tokenFilePath()})`)}\n`);
    return;
  }
  process.stdout.write(
    table(
      ['ID', 'NAME', 'KIND', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'FROM', 'STATUS', 'REACH'],
      tokens.map((t) => [
        t.id,
        t.name,
        // A device was paired (`tether pair`); a plain token was made by `auth token create`.
        t.kind ?? 'token',
        t.permissions.join(','),
        shortTime(t.createdAt),
        shortTime(t.expiresAt),
        shortTime(t.lastUsedAt),
        t.lastUsedFrom ? visible(t.lastUsedFrom) : '-',
        t.status,
        // Where it reaches: a share link's one terminal or session, a scoped token's directories, or all.
        t.kind === 'share' && t.target ? `${t.target.type} ${t.target.id}` : t.scopes ? t.scopes.map((d) => visible(d)).join(', ') : 'all',
      ]),
    ),
  );
}

export async function deleteCommand(refs: string[]): Promise<void> {
  const deleted = await deleteTokens(refs);
  for (const t of deleted) recordOnce('token.delete', { tokenId: t.id, tokenName: t.name, address: CLI_ADDRESS }, {});
  for (const t of deleted) process.stdout.write(`Deleted token ${t.name} (${t.id})\n`);
}
