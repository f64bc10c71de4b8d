// @ts-check
// The app shell: the header (who is logged in, with which permissions), the sidebar sections this
// token may use, and entering or leaving the app.
import { $, $as, h, show } from './dom.js';
import { closeDrawer } from './drawer.js';
import { closeEvents, openEvents } from './events.js';
import { until } from './format.js';
import { clearLists, refreshLists } from './lists.js';
import { disposeCurrent, route } from './router.js';
import { canRun, state } from './state.js';
import { showBanner } from './status.js';

const PERMISSIONS = /** @type {const} */ (['read', 'write', 'execute']);

/** Shows the app for the logged-in token `me`, opens live updates and mounts the route. */
export function enterApp(/** @type {Me} */ me) {
  state.me = me;
  const perms = new Set(me.permissions);
  state.can = { read: perms.has('read'), write: perms.has('write'), execute: perms.has('execute') };
  show($('login'), false);
  show($('app'));
  document.title = `tether · ${me.name}`;

  $('who-name').textContent = me.name;
  $('who-perms').replaceChildren(
    ...PERMISSIONS.map((p) =>
      h('span', { className: `perm ${perms.has(p) ? 'on' : 'off'}`, title: perms.has(p) ? `has ${p}` : `no ${p} permission`, dataset: { perm: p } }, p),
    ),
  );
  $('who-exp').textContent = until(me.expiresAt);
  // With --no-auth there is no session to end.
  show($('logout'), me.id !== null);

  const exec = canRun();
  show($('nav-terminals'), exec);
  show($('nav-sessions'), exec);
  show($('nav-audit'), exec);
  show($('no-exec-note'), !state.can.execute);
  for (const id of ['new-terminal', 'new-session', 'home-terminal', 'home-session']) {
    const b = $as(id, HTMLButtonElement);
    b.disabled = !state.can.write;
    b.title = state.can.write ? b.getAttribute('aria-label') || '' : 'This token has no write permission';
  }
  show($('home-terminal'), exec);
  show($('home-session'), exec);
  $('home-lead').textContent = exec
    ? 'Open a terminal or a session from the navigation, or start a new one.'
    : 'This token can read the project and its settings. Terminals and sessions need the execute permission.';

  openEvents();
  void refreshLists();
  route();
}

/** Leaves the app: the screen, live updates, the lists and the banner go. */
export function teardown() {
  try {
    disposeCurrent();
  } catch {
    // a screen that fails to clean up must not keep the login page from showing
  }
  closeDrawer();
  closeEvents();
  clearLists();
  showBanner(null);
}
