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
