// The permission vocabulary. Pure.
export const PERMISSIONS = ['read', 'write', 'execute'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(v: unknown): v is Permission {
  return typeof v === 'string' && (PERMISSIONS as readonly string[]).includes(v);
}

/** Canonical order, no duplicates. */
export function normalizePermissions(perms: Iterable<Permission>): Permission[] {
  const set = new Set(perms);
  return PERMISSIONS.filter((p) => set.has(p));
}
