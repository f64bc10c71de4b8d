// @ts-check
// The login page, logging in and out, and the start of the page.
// - The token is pasted and exchanged once at POST /auth/session for an HttpOnly, SameSite=Strict
//   cookie plus a session key (api.js); the page never stores the token, never puts it in a URL.
// - A link carrying a token (`/#token=...`) is not a login: a link stays in the browser's history,
//   session and tab files, and any page could open one to swap the user's login for another. The
//   page erases such a fragment, says so, and sends it nowhere.
// - A login never silently replaces another tab's session (tabs.js): if a tab is logged in, or
//   this browser sent a login cookie at start, the user confirms first.
import { authHeaders, currentKey, errorOf, setSessionKey } from './api.js';
import { $, $as, show } from './dom.js';
import { enterApp, teardown } from './layout.js';
import { state } from './state.js';
import { showBanner } from './status.js';
import { createTabs } from './tabs.js';
import { loginRefusedMessage } from './login-text.js';

export const FRAGMENT_REFUSED =
  'Logging in with a token in the link (#token=…) is not supported: a link stays in the browser history. ' +
  'The token was not used or sent anywhere; paste it below instead. If you did not open this link yourself, ignore it.';

const tabs = createTabs({
  loggedInAs: () => (state.me && state.me.id !== null ? state.me.name : null),
  onReplaced(name) {
    // Local only: a DELETE /auth/session now would clear the other tab's new cookie.
    state.me = null;
    setSessionKey(null);
    showLogin(`A login${name ? ` as ${name}` : ''} in another tab ended this tab's session (a browser holds one tether login per server).`, 'info');
  },
});

const submitButton = () => $as('login-submit', HTMLButtonElement);
const tokenInput = () => $as('login-token', HTMLInputElement);

export function showLogin(/** @type {string | undefined} */ message, kind = 'info') {
  teardown();
  show($('app'), false);
  show($('login'));
  const msg = $('login-message');
  msg.textContent = message || '';
  msg.className = `login-message ${kind}`;
  show(msg, Boolean(message));
  show($('login-confirm'), false);
  submitButton().disabled = false;
  document.title = 'tether · log in';
  tokenInput().focus();
}

/** Ends the web session locally (the server already refused it) and shows the login page. */
export function endSession(/** @type {string} */ message) {
  if (state.ending || !state.me) {
    if (!state.me) showLogin(message, 'error');
    return;
  }
  state.ending = true;
  state.me = null;
  setSessionKey(null);
  showLogin(message, 'error');
  state.ending = false;
}

async function login(/** @type {string} */ token) {
  submitButton().disabled = true;
  try {
    const res = await fetch('/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: token.trim() }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (!res.ok) {
      showLogin(loginRefusedMessage(res.status, await errorOf(res), res.headers.get('retry-after')), 'error');
      return;
    }
    /** @type {Me & { sessionKey: string }} */
    const { sessionKey: key, ...me } = await res.json();
    setSessionKey(key);
    tokenInput().value = '';
    tabs.loginCookieAtStart = false;
    // The cookie just changed for every tab of this origin: tell them why their session ended.
    tabs.post({ type: 'replaced', name: me.name });
    enterApp(me);
  } catch {
    showLogin('Cannot reach the tether server.', 'error');
  }
}

/** The login form: first make sure no other session is silently replaced. */
async function submitLogin(/** @type {string} */ token) {
  submitButton().disabled = true;
  const other = await tabs.findLoggedIn();
  if (!other && !tabs.loginCookieAtStart) return login(token);
  const text = other
    ? `You are logged in as ${other.name} in another tab. A browser holds one tether login per server, so logging in here ends that tab's session.`
    : 'This browser already holds a tether login for this host: from another tab, another tether server on this host, or before a server restart. Logging in here replaces it.';
  $('login-confirm-text').textContent = `${text} Log in here anyway?`;
  show($('login-confirm'));
  const yes = await new Promise((resolve) => {
    $('login-confirm-yes').onclick = () => resolve(true);
    $('login-confirm-no').onclick = () => resolve(false);
  });
  show($('login-confirm'), false);
  if (yes) return login(token);
  showLogin('Not logged in: the other session is untouched.', 'info');
}

/** Whether the fragment carries a token (`#token=...`). If so it is erased from the address bar
 * and the session history entry, and never sent anywhere. */
export function eraseFragmentToken() {
  if (!location.hash.startsWith('#')) return false;
  if (!new URLSearchParams(location.hash.slice(1)).has('token')) return false;
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

async function logout() {
  try {
    await fetch('/auth/session', { method: 'DELETE', headers: authHeaders(), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // The cookie is HttpOnly; if the server is gone the session dies with it.
  }
  state.me = null;
  setSessionKey(null);
  history.replaceState(null, '', location.pathname + location.search);
  showLogin('You have logged out.');
}

export function wireLogin() {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = tokenInput().value;
    if (token.trim() && !submitButton().disabled) void submitLogin(token);
  });
  $('logout').addEventListener('click', () => void logout());
}

/** The page's start: an existing session (the cookie is HttpOnly: only the server can tell), else the login page. */
export async function start() {
  const refused = eraseFragmentToken();
  try {
    const hadKey = Boolean(currentKey());
    const res = await fetch('/auth/whoami', { headers: authHeaders(), credentials: 'same-origin', cache: 'no-store' });
    if (res.ok) {
      // (With --no-auth the server answers for everyone: no login needed.)
      enterApp(await res.json());
      if (refused) showBanner(FRAGMENT_REFUSED, 'error');
      return;
    }
    // Sent without a session key, only a cookie can be a malformed credential: some tab, or
    // another tether server on this host, holds a login this one would replace.
    if (!hadKey && res.status === 401) tabs.loginCookieAtStart = (await errorOf(res)).code === 'malformed_token';
  } catch {
    return showLogin('Cannot reach the tether server.', 'error');
  }
  showLogin(refused ? FRAGMENT_REFUSED : undefined, refused ? 'error' : 'info');
}
