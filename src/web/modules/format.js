// @ts-check
// How times and sizes read in the UI. Pure.

/** "just now", "5 min ago", "3 h ago" or a date. */
export function ago(/** @type {string | null | undefined} */ iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** A token's expiry, as the header shows it. */
export function until(/** @type {string | null | undefined} */ iso) {
  if (!iso) return 'never expires';
  const s = (Date.parse(iso) - Date.now()) / 1000;
  if (s <= 0) return 'expired';
  if (s < 3600) return `expires in ${Math.max(1, Math.round(s / 60))} min`;
  if (s < 2 * 86400) return `expires in ${Math.round(s / 3600)} h`;
  return `expires in ${Math.round(s / 86400)} days`;
}

export function formatBytes(/** @type {number | null | undefined} */ n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
