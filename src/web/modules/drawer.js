// @ts-check
// On a narrow screen (the CSS breakpoint below) the sidebar is a drawer: the menu button opens it;
// Escape, a click outside it, or choosing an item in it closes it. While it is open the main view is
// inert (no focus, no clicks), so Tab stays in the drawer and the top bar; when it closes by
// Escape or a click outside, focus returns to the menu button. Closed, it is hidden from focus and
// from assistive technology (the CSS sets visibility: hidden). On a wide screen none of this applies.
import { $ } from './dom.js';

export const NARROW = '(max-width: 760px)';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Whether the drawer is open. */
export function drawerOpen() {
  return $('sidebar').classList.contains('open');
}

/** Closes the drawer; `refocus` moves focus back to the menu button. */
export function closeDrawer({ refocus = false } = {}) {
  const sidebar = $('sidebar');
  if (!sidebar.classList.contains('open')) return;
  sidebar.classList.remove('open');
  const toggle = $('nav-toggle');
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-label', 'Open navigation');
  $('nav-backdrop').hidden = true;
  $('main').inert = false;
  if (refocus) toggle.focus();
}

function openDrawer() {
  const sidebar = $('sidebar');
  sidebar.classList.add('open');
  const toggle = $('nav-toggle');
  toggle.setAttribute('aria-expanded', 'true');
  toggle.setAttribute('aria-label', 'Close navigation');
  $('nav-backdrop').hidden = false;
  $('main').inert = true;
  // The item on show if there is one, else the first thing to choose.
  const target =
    sidebar.querySelector('a.active') || [...sidebar.querySelectorAll(FOCUSABLE)].find((el) => el instanceof HTMLElement && el.offsetParent !== null);
  if (target instanceof HTMLElement) target.focus();
}

export function wireDrawer() {
  const sidebar = $('sidebar');
  $('nav-toggle').addEventListener('click', () => (drawerOpen() ? closeDrawer({ refocus: true }) : openDrawer()));
  $('nav-backdrop').addEventListener('click', () => closeDrawer({ refocus: true }));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && drawerOpen()) {
      ev.preventDefault();
      closeDrawer({ refocus: true });
    }
  });
  // Choosing an item (a link, or a button such as "New terminal") closes the drawer. The screen it
  // opens may take focus (the composer, the terminal); if none does, focus is not left on the
  // hidden item but goes back to the menu button.
  sidebar.addEventListener('click', (ev) => {
    const chosen = ev.target instanceof Element ? ev.target.closest('a[href], button') : null;
    if (!chosen || !drawerOpen()) return;
    closeDrawer();
    setTimeout(() => {
      const active = document.activeElement;
      if (!active || active === document.body || sidebar.contains(active)) $('nav-toggle').focus();
    }, 50);
  });
  // Growing past the breakpoint (a rotated phone) leaves no drawer behind.
  matchMedia(NARROW).addEventListener('change', (ev) => {
    if (!ev.matches) closeDrawer();
  });
}
