// `tether share pty ID` / `tether share session ID`: a read-only, expiring link to watch one terminal
// or agent session, made by the server (POST /pty/:id/share, POST /session/:id/share) and shown once.
import { parseShareExpiry } from '../auth/spec.js';
import { PTY_ID, SESSION_ID } from '../client/schemas.js';
import type { ShareLink } from '../client/types.js';
import { UsageError } from '../errors.js';
import { withClient, type ClientFlags } from './client-common.js';
import { bold, relative, yellow } from './output.js';
import { tetherCommand } from './invocation.js';
import { safeJson, visible } from './sanitize.js';

export interface ShareOptions extends ClientFlags {
  expires?: string;
  name?: string;
  json?: boolean;
}

export type ShareType = 'pty' | 'session';

const NOUN: Record<ShareType, string> = { pty: 'terminal', session: 'session' };
const ID_PATTERN: Record<ShareType, [RegExp, string]> = {
  pty: [PTY_ID, 'a terminal id like pty_0123456789abcdef'],
  session: [SESSION_ID, 'a session id like ses_3q2ZK7m9TgWv0xYbL1cR8A'],
};

export async function shareCommand(type: ShareType, id: string, opts: ShareOptions): Promise<void> {
  const [pattern, accepted] = ID_PATTERN[type];
  if (!pattern.test(id)) throw new UsageError(`tether share ${type} takes ${accepted}, not "${visible(id.slice(0, 80))}"`);
  // Checked here too, so a bad value is a usage error (exit 2) before anything is sent.
  if (opts.expires !== undefined) parseShareExpiry(opts.expires);
  const body = { ...(opts.expires !== undefined ? { expires: opts.expires } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) };
  const link = await withClient(opts, (client) => client.share(type, id, body));
  process.stdout.write(opts.json ? safeJson(link) + '\n' : describe(type, link));
}

function describe(type: ShareType, link: ShareLink): string {
  const noun = NOUN[type];
  return (
    `Share link for ${noun} ${visible(link.target.id)} (view only), expires ${visible(link.expiresAt)} (${relative(link.expiresAt)}):\n\n` +
    `  ${bold(visible(link.url))}\n\n` +
    yellow(`Anyone with this link can watch this ${noun} until then, and nothing else. It is shown only once.`) +
    `\nRevoke it with: ${tetherCommand(`auth token delete ${visible(link.id)}`)}\n`
  );
}
