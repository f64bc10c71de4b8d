// @ts-check
// The pairing page (/pair#<code>, opened from the link or QR code `tether pair` prints). The code is
// in the fragment, which is never sent to a server; it is read once and erased from the address bar
// and the history entry at once. The exchange waits for a click, so a link previewer that runs
// scripts cannot spend the code. POST /auth/pair answers with a login (an HttpOnly cookie plus a key)
// for a new device token that the page never sees; then the app opens.
import { setSessionKey } from './modules/api.js';
import { createTabs } from './modules/tabs.js';

/** @param {string} id */
function el(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
}

/** @param {string} text @param {'info' | 'error'} kind */
function say(text, kind) {
  const m = el('pair-message');
  m.textContent = text;
  m.className = `login-message ${kind}`;
  m.hidden = false;
}

/** The code from the fragment, erased from the URL whatever it holds. */
function takeCode() {
  const raw = location.hash.slice(1);
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  return /^[A-Za-z0-9_-]{1,128}$/.test(raw) ? raw : null;
}

/** @param {Response} res */
async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body && body.error && typeof body.error.message === 'string') return body.error.message;
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`;
}

const button = /** @type {HTMLButtonElement} */ (el('pair-submit'));
el('pair-host').textContent = location.host;
/** @type {string | null} */
let code = null;

async function pair(/** @type {string} */ c) {
  button.disabled = true;
  say('Pairing…', 'info');
  let res;
  try {
    res = await fetch('/auth/pair', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ code: c }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    button.disabled = false;
    say('Cannot reach the tether server. Check the connection and try again.', 'error');
    return;
  }
  if (!res.ok) {
    const retry = res.headers.get('retry-after');
    say(res.status === 429 ? `Too many failed attempts. Try again in ${retry || 'a few'} seconds.` : `Not paired: ${await errorMessage(res)}`, 'error');
    // A refused code is spent (or never was): only a network failure or a 429 may be retried.
    button.disabled = res.status !== 429;
    return;
  }
  /** @type {Me & { sessionKey: string }} */
  const me = await res.json();
  // A paired device's login is its only way in (it never saw its token): the key outlives the tab.
  setSessionKey(me.sessionKey, true);
  // The cookie just changed for every tab of this origin: tell them why their session ended.
  createTabs({ loggedInAs: () => null, onReplaced() {} }).post({ type: 'replaced', name: me.name });
  say(`Paired as ${me.name}. Opening tether…`, 'info');
  location.replace('/');
}

/** Takes the code from the fragment; again when only the fragment changes (no page load then). */
function arm() {
  const taken = takeCode();
  if (taken === null && code !== null) return; // our own erasing of the fragment
  code = taken;
  el('pair-message').hidden = true;
  button.disabled = code === null;
  if (code === null) say('This link holds no pairing code. Run `tether pair` on the server and open the link or QR code it shows.', 'error');
}

button.addEventListener('click', () => {
  if (code !== null) void pair(code);
});
window.addEventListener('hashchange', arm);
arm();
