// `tether auth token create|list|delete`. Flag parsing and printing only; the work is in auth/tokens.
import { createToken, deleteTokens, listTokens, defaultExpiry, type ListedToken } from '../auth/token-admin.js';
import { parseExpiry, parsePermissionList } from '../auth/spec.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { tokenFilePath } from '../auth/token-file.js';
import { bold, yellow, dim, outputWidth, relative, shortDate, shortTime, table, tableWidth } from './output.js';
import { tetherCommand } from './invocation.js';

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
      `\nCopy it now, e.g. into a password manager or \`${tetherCommand('auth login')}\`.\n`,
  );
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const tokens = await listTokens();
  if (opts.json) {
    process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
    return;
  }
  if (tokens.length === 0) {
    process.stdout.write(`No tokens yet. Create one with: ${tetherCommand('auth token create --name NAME')}\n${dim(`(store: ${tokenFilePath()})`)}\n`);
    return;
  }
  process.stdout.write(tokenListText(tokens, outputWidth()));
}

/**
 * The token list in `width` columns: the full table if it fits; else a table without the creation
 * time and with days for times; else (long names, a narrow terminal) one block per token. Names are
 * never cut: they are what `delete` takes.
 */
export function tokenListText(tokens: ListedToken[], width: number): string {
  const full = {
    headers: ['ID', 'NAME', 'PERMISSIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'STATUS'],
    rows: tokens.map((t) => [t.id, t.name, t.permissions.join(','), shortTime(t.createdAt), shortTime(t.expiresAt), shortTime(t.lastUsedAt), t.status]),
  };
  if (tableWidth(full.headers, full.rows) <= width) return table(full.headers, full.rows);
  const narrow = {
    headers: ['ID', 'NAME', 'PERMISSIONS', 'EXPIRES', 'LAST USED', 'STATUS'],
    rows: tokens.map((t) => [t.id, t.name, t.permissions.join(','), shortDate(t.expiresAt), shortDate(t.lastUsedAt), t.status]),
  };
  if (tableWidth(narrow.headers, narrow.rows) <= width) return table(narrow.headers, narrow.rows);
  return tokens.map((t) => tokenBlock(t, width)).join('\n');
}

function tokenBlock(t: ListedToken, width: number): string {
  const head = `${t.id}  ${bold(t.name)}`;
  const lines = `${t.id}  ${t.name}`.length <= width ? [head] : [t.id, `  ${bold(t.name)}`];
  const details = [
    t.permissions.join(','),
    `created ${shortDate(t.createdAt)}`,
    `expires ${shortDate(t.expiresAt)}`,
    `last used ${shortDate(t.lastUsedAt)}`,
    t.status,
  ];
  // As many details on a line as fit, indented under the id.
  let line = '';
  for (const d of details) {
    if (line && 2 + line.length + 2 + d.length > width) {
      lines.push(`  ${line}`);
      line = '';
    }
    line = line ? `${line}, ${d}` : d;
  }
  if (line) lines.push(`  ${line}`);
  return lines.join('\n') + '\n';
}

export async function deleteCommand(refs: string[]): Promise<void> {
  const deleted = await deleteTokens(refs);
  for (const t of deleted) process.stdout.write(`Deleted token ${t.name} (${t.id})\n`);
}
