import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ses' | 'msg' | 'prt';

/**
 * `<prefix>_` + 16 random bytes in base64url (22 chars): URL-safe, unguessable (ids appear in
 * URLs, so they must not let one client enumerate another's sessions), and the prefix tells a
 * reader at a glance what kind of id a log line or an error names.
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}
