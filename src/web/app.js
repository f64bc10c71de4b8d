// @ts-check
// tether's web UI: plain ES modules, no framework, no bundler. Served by src/server/routes/web.ts
// (this file is /ui/app.js, the modules are /ui/modules/*.js, xterm is /ui/vendor/*.mjs), under a
// strict CSP: no inline script or style anywhere.
//
// The modules, by concern: api (requests, the session key), sse (the one event-stream parser),
// events (live updates), layout, drawer (the sidebar on a phone), lists (sidebar), router, status
// (banner), login and tabs, markdown-view (agent replies, with /ui/vendor/markdown.js), and one
// per screen: terminals (with terminal-view), session (with messages), files, settings, audit.
// Security notes live where the code is: login.js (tokens, links, tabs), api.js (the cookie and
// the key), terminal-view.js (the WebSocket), markdown-view.js (agent replies). Nothing from the
// server is inserted as HTML (dom.js): Markdown is rebuilt element by element from an allowlist.
//
// csp-styles.js comes first: it must patch the DOM before xterm.js (imported by the terminal
// modules) ever runs.
import './csp-styles.js';
import { onSessionEnded } from './modules/api.js';
import { mountAudit } from './modules/audit.js';
import { $ } from './modules/dom.js';
import { closeDrawer, wireDrawer } from './modules/drawer.js';
import { mountFiles } from './modules/files.js';
import { FRAGMENT_REFUSED, endSession, eraseFragmentToken, showLogin, start, wireLogin } from './modules/login.js';
import { registerScreens, route } from './modules/router.js';
import { mountSession, newSession } from './modules/session.js';
import { mountSettings } from './modules/settings.js';
import { state } from './modules/state.js';
import { showBanner } from './modules/status.js';
import { mountTerminal, newTerminal } from './modules/terminals.js';

registerScreens({
  home: () => ({ dispose() {} }),
  terminal: mountTerminal,
  session: mountSession,
  files: mountFiles,
  config: mountSettings,
  audit: mountAudit,
});
// A 401 anywhere, a revoked token's closing event or WebSocket close: back to the login page.
onSessionEnded(endSession);

wireLogin();
wireDrawer();
$('new-terminal').addEventListener('click', () => void newTerminal());
$('home-terminal').addEventListener('click', () => void newTerminal());
$('new-session').addEventListener('click', () => void newSession());
$('home-session').addEventListener('click', () => void newSession());
window.addEventListener('hashchange', () => {
  closeDrawer();
  if (!eraseFragmentToken()) return route();
  if (state.me) showBanner(FRAGMENT_REFUSED, 'error');
  else showLogin(FRAGMENT_REFUSED, 'error');
});
window.addEventListener('popstate', () => route());

void start();
