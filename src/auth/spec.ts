// Parsing of the user-facing permission list and expiry spec. Pure.
import { UsageError } from '../errors.js';
import { PERMISSIONS, isPermission, normalizePermissions, type Permission } from './permissions.js';

export const PERMISSIONS_ACCEPTED = 'a comma-separated subset of read,write,execute, or "all"';
export const EXPIRES_ACCEPTED = 'a duration (e.g. 30m, 12h, 30d, 6w, 1y), a future ISO date or date-time (2027-01-31, 2027-01-31T12:00:00Z), or "never"';

export function parsePermissionList(input: string): Permission[] {
  const raw = input.trim();
  if (raw === '') throw new UsageError(`the permission list is empty; give ${PERMISSIONS_ACCEPTED}`);
  if (raw.toLowerCase() === 'all') return [...PERMISSIONS];
  const parts = raw.split(',').map((p) => p.trim().toLowerCase());
  const out: Permission[] = [];
  for (const p of parts) {
    if (p === '') throw new UsageError(`the permission list "${input}" has an empty item; give ${PERMISSIONS_ACCEPTED}`);
    if (!isPermission(p)) throw new UsageError(`unknown permission "${p}"; give ${PERMISSIONS_ACCEPTED}`);
    out.push(p);
  }
  return normalizePermissions(out);
}

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};
const MAX_EXPIRY_MS = 100 * 365 * 86_400_000;

/** Returns the expiry instant as ISO 8601, or null for "never". */
export function parseExpiry(input: string, now = Date.now()): string | null {
  const raw = input.trim();
  if (raw.toLowerCase() === 'never') return null;
  const dur = /^(\d{1,6})([mhdwy])$/.exec(raw);
  let at: number;
  if (dur) {
    const n = Number(dur[1]);
    if (n === 0) throw new UsageError(`expiry "${input}" is zero; give ${EXPIRES_ACCEPTED}`);
    const ms = n * UNIT_MS[dur[2]!]!;
    if (ms > MAX_EXPIRY_MS) throw new UsageError(`expiry "${input}" is more than 100 years; use "never" instead`);
    at = now + ms;
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    at = Date.parse(`${raw}T00:00:00Z`);
    if (Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== raw) {
      throw new UsageError(`expiry "${input}" is not a real calendar date; give ${EXPIRES_ACCEPTED}`);
    }
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)) {
    at = Date.parse(raw);
    if (Number.isNaN(at)) throw new UsageError(`expiry "${input}" is not a valid date-time; give ${EXPIRES_ACCEPTED}`);
  } else {
    throw new UsageError(`cannot understand expiry "${input}"; give ${EXPIRES_ACCEPTED}`);
  }
  if (at <= now) throw new UsageError(`expiry "${input}" is in the past; give ${EXPIRES_ACCEPTED}`);
  if (at - now > MAX_EXPIRY_MS) throw new UsageError(`expiry "${input}" is more than 100 years away; use "never" instead`);
  return new Date(at).toISOString();
}

/** A share link's lifetime: it always expires, by default after an hour, at the latest after a week. */
export const SHARE_DEFAULT_EXPIRY = '1h';
export const SHARE_MAX_EXPIRY_MS = 7 * 86_400_000;
export const SHARE_EXPIRES_ACCEPTED = 'a duration (e.g. 15m, 1h, 2d, 7d) or a future ISO date-time, at most 7 days away';

/** The expiry of a new share link as ISO 8601: never "never", never more than 7 days away. */
export function parseShareExpiry(input: string | undefined, now = Date.now()): string {
  const raw = input ?? SHARE_DEFAULT_EXPIRY;
  if (raw.trim().toLowerCase() === 'never') throw new UsageError(`a share link always expires; give ${SHARE_EXPIRES_ACCEPTED}`);
  let at: string | null;
  try {
    at = parseExpiry(raw, now);
  } catch (err) {
    // Same words as token create, but naming what a share link accepts.
    throw new UsageError(`${(err as Error).message.replace(/; (give|use) .*$/, '')}; give ${SHARE_EXPIRES_ACCEPTED}`);
  }
  if (at === null || Date.parse(at) - now > SHARE_MAX_EXPIRY_MS) {
    throw new UsageError(`share link expiry "${raw.slice(0, 60)}" is more than 7 days away; give ${SHARE_EXPIRES_ACCEPTED}`);
  }
  return at;
}
