// @ts-check
// The page's status line (#banner) and the live-updates indicator (#conn).
import { SessionEnded } from './api.js';
import { $, show } from './dom.js';

/** Shows a message above the screen, or hides it (null). */
export function showBanner(/** @type {string | null} */ text, kind = 'info') {
  const b = $('banner');
  b.textContent = text || '';
  b.className = `banner ${kind}`;
  show(b, Boolean(text));
}

/** Shows what went wrong; an ended session (already on the login page) or an abort is not an error. */
export function reportError(/** @type {unknown} */ err) {
  if (err instanceof SessionEnded || (err instanceof Error && err.name === 'AbortError')) return;
  showBanner(err instanceof Error ? err.message : String(err), 'error');
}

export function setConn(/** @type {boolean} */ live) {
  const c = $('conn');
  c.className = `conn ${live ? 'live' : 'off'}`;
  c.title = live ? 'Live updates on' : 'Live updates reconnecting…';
}
