// @ts-check
// Routing by the fragment: #/terminal/<id>, #/session/<id>, #/files/<path>, #/config, #/audit, else home.
// One screen is mounted at a time; mounting returns what disposes it and takes its events.
import { $, show } from './dom.js';
import { renderLists } from './lists.js';
import { canRun, state } from './state.js';
import { showBanner } from './status.js';

export const SCREENS = /** @type {const} */ (['home', 'terminal', 'session', 'files', 'config', 'audit']);
/** @typedef {typeof SCREENS[number]} Screen */

/** @type {Record<Screen, (arg: string | null) => Mounted> | null} */
let screens = null;

/** The screens' mount functions (given once at start, by app.js: screens import this module). */
export function registerScreens(/** @type {Record<Screen, (arg: string | null) => Mounted>} */ mounts) {
  screens = mounts;
}

export function parseRoute() {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash);
  if (!m) return { name: 'home', arg: null };
  /** @type {string | null} */
  let arg;
  try {
    arg = m[2] === undefined ? null : decodeURIComponent(m[2]);
  } catch {
    arg = null;
  }
  return { name: /** @type {string} */ (m[1]), arg };
}

/** Disposes the screen on show, if any. */
export function disposeCurrent() {
  const cur = state.current;
  state.current = null;
  if (cur) cur.dispose();
}

/** Shows one screen's section and hides the others. */
export function showScreen(/** @type {Screen} */ name) {
  for (const v of SCREENS) show($(`view-${v}`), v === name);
}

/** Mounts the screen the fragment names, unless it is on show already. */
export function route() {
  if (!state.me || !screens) return;
  const parsed = parseRoute();
  const arg = parsed.arg;
  /** @type {Screen} */
  let name = SCREENS.find((s) => s === parsed.name) ?? 'home';
  if ((name === 'terminal' || name === 'session') && (!canRun() || !arg)) name = 'home';
  if (name === 'audit' && !canRun()) name = 'home';
  const cur = state.current;
  if (cur && cur.name === name && cur.arg === arg) return;
  // A screen with unsaved work may keep the user (it asks): then the address goes back to it.
  if (cur && cur.confirmLeave && !cur.confirmLeave()) {
    history.replaceState(null, '', `#/${cur.name}${cur.arg === null ? '' : `/${encodeURIComponent(cur.arg)}`}`);
    return;
  }
  disposeCurrent();
  showBanner(null);
  showScreen(name);
  state.current = { name, arg, dispose() {} };
  const mounted = screens[name](arg);
  state.current = { name, arg, ...mounted };
  renderLists();
}

export function navigate(/** @type {string} */ hash, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', hash);
  else history.pushState(null, '', hash);
  route();
}
