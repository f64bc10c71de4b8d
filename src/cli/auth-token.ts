// `tether auth token create|list|delete`. Flag parsing and printing only; the work is in auth/tokens.
import { createToken, deleteTokens, listTokens, defaultExpiry, type ListedToken } from '../auth/token-admin.js';
import { parseExpiry, parsePermissionList } from '../auth/spec.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { tokenFilePath } from '../auth/token-file.js';
import { resolveScopeDirs } from '../auth/scope-dirs.js';
import { CLI_ADDRESS } from '../audit/kinds.js';
import { bold, yellow, dim, outputWidth, relative, shortDate, shortTime, table, tableWidth } from './output.js';
import { tetherCommand } from './invocation.js';
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
  // The audit log loads only for the commands that write to it (not for `list`).
  const { recordOnce } = await import('../audit/log.js');
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
      `\nCopy it now, e.g. into a password manager or \`${tetherCommand('auth login')}\`.\n`,
  );
}

export async function listCommand(opts: { json?: boolean }): Promise<void> {
  const tokens = await listTokens();
  if (opts.json) {
    process.stdout.write(safeJson(tokens, 2) + '\n');
    return;
  }
  if (tokens.length === 0) {
    process.stdout.write(`No tokens yet. Create one with: ${tetherCommand('auth token create --name NAME')}\n${dim(`(store: ${tokenFilePath()})`)}\n`);
    return;
  }
  process.stdout.write(tokenListText(tokens, outputWidth()));
}

/** A device was paired (`tether pair`), a share link watches one thing; a plain token is `token`. */
const kindOf = (t: ListedToken) => t.kind ?? 'token';
/** The client address of the last use. */
const fromOf = (t: ListedToken) => (t.lastUsedFrom ? visible(t.lastUsedFrom) : '-');
/** Where it reaches: a share link's one terminal or session, a scoped token's directories, or all. */
const reachOf = (t: ListedToken) =>
  t.kind === 'share' && t.target ? `${t.target.type} ${t.target.id}` : t.scopes ? t.scopes.map((d) => visible(d)).join(', ') : 'all';

/**
 * The token list in `width` columns: the full table if it fits; else a table without the creation
 * time and with days for times; else (long names, a narrow terminal) one block per token. Names are
 * never cut: they are what `delete` takes.
 */
export function tokenListText(tokens: ListedToken[], width: number): string {
  // KIND, FROM and REACH only when some token has something to say there (a paired device, a
  // recorded address, a scope or share target), so the common list stays narrow.
  type Col = readonly [header: string, cell: (t: ListedToken) => string, narrow: boolean];
  const cols: Col[] = [
    ['ID', (t) => t.id, true],
    ['NAME', (t) => t.name, true],
    ...(tokens.some((t) => t.kind !== undefined) ? [['KIND', kindOf, true] as Col] : []),
    ['PERMISSIONS', (t) => t.permissions.join(','), true],
    ['CREATED', (t) => shortTime(t.createdAt), false],
    ['EXPIRES', (t) => shortTime(t.expiresAt), true],
    ['LAST USED', (t) => shortTime(t.lastUsedAt), true],
    ...(tokens.some((t) => t.lastUsedFrom) ? [['FROM', fromOf, false] as Col] : []),
    ['STATUS', (t) => t.status, true],
    ...(tokens.some((t) => reachOf(t) !== 'all') ? [['REACH', reachOf, true] as Col] : []),
  ];
  const full = { headers: cols.map((c) => c[0]), rows: tokens.map((t) => cols.map((c) => c[1](t))) };
  if (tableWidth(full.headers, full.rows) <= width) return table(full.headers, full.rows);
  // Narrower: days instead of times, without the creation time and the address.
  const day: Record<string, (t: ListedToken) => string> = { EXPIRES: (t) => shortDate(t.expiresAt), 'LAST USED': (t) => shortDate(t.lastUsedAt) };
  const kept = cols.filter((c) => c[2]);
  const narrow = { headers: kept.map((c) => c[0]), rows: tokens.map((t) => kept.map((c) => (day[c[0]] ?? c[1])(t))) };
  if (tableWidth(narrow.headers, narrow.rows) <= width) return table(narrow.headers, narrow.rows);
  return tokens.map((t) => tokenBlock(t, width)).join('\n');
}

function tokenBlock(t: ListedToken, width: number): string {
  const head = `${t.id}  ${bold(t.name)}`;
  const lines = `${t.id}  ${t.name}`.length <= width ? [head] : [t.id, `  ${bold(t.name)}`];
  const details = [
    ...(t.kind ? [t.kind] : []),
    t.permissions.join(','),
    `created ${shortDate(t.createdAt)}`,
    `expires ${shortDate(t.expiresAt)}`,
    `last used ${shortDate(t.lastUsedAt)}`,
    ...(t.lastUsedFrom ? [`from ${fromOf(t)}`] : []),
    t.status,
    ...(reachOf(t) !== 'all' ? [`reach ${reachOf(t)}`] : []),
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
  const { recordOnce } = await import('../audit/log.js');
  for (const t of deleted) recordOnce('token.delete', { tokenId: t.id, tokenName: t.name, address: CLI_ADDRESS }, {});
  for (const t of deleted) process.stdout.write(`Deleted token ${t.name} (${t.id})\n`);
}
