// tether's web UI: plain JavaScript, no framework, no bundler. Served by src/server/routes/web.ts.
//
// Security notes:
// - The token is pasted, exchanged once at POST /auth/session for an HttpOnly, SameSite=Strict
//   cookie; the page never stores it and never puts it in a URL. A link carrying a token
//   (`/#token=...`) is not a login: a link stays in the browser's history, session and tab files,
//   and any page could open one to swap the user's login for another. The page erases such a
//   fragment, says so, and sends it nowhere.
// - Tabs share the cookie, so a login in one tab would end the session of another. Before logging
//   in, the page asks the other tabs (BroadcastChannel, nothing stored) and, if one is logged in or
//   this browser sent a login cookie at start, asks the user to confirm; after a login it tells the
//   other tabs, which show their login page with the reason.
// - Every request is same-origin and authenticated by that cookie plus the session key the login
//   returned, sent as the X-Tether-Session header (the WebSocket offers it as the subprotocol
//   `tether.session.<key>`). Cookies are shared by every port of a host, the key is not: it lives in
//   sessionStorage, which is per origin. Any 401 means the web session ended (logout elsewhere,
//   token deleted or expired): back to the login.
// - Nothing from the server is ever parsed as HTML: all text goes in with textContent.
import './csp-styles.js';
import { Terminal } from './vendor/xterm.mjs';
import { FitAddon } from './vendor/addon-fit.mjs';

// ---------- small DOM helpers ----------

const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
};

/** Creates an element; `props` are DOM properties (className, textContent, href, onclick, dataset...). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('aria-') || k === 'role' || k === 'title') el.setAttribute(k, String(v));
    else el[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(el, visible = true) {
  el.hidden = !visible;
}

function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function until(iso) {
  if (!iso) return 'never expires';
  const s = (Date.parse(iso) - Date.now()) / 1000;
  if (s <= 0) return 'expired';
  if (s < 3600) return `expires in ${Math.max(1, Math.round(s / 60))} min`;
  if (s < 2 * 86400) return `expires in ${Math.round(s / 3600)} h`;
  return `expires in ${Math.round(s / 86400)} days`;
}

function formatBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------- the API ----------

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Thrown after a 401: the session has ended and the login page is showing. */
class SessionEnded extends Error {}

async function errorOf(res) {
  try {
    const body = await res.json();
    if (body && body.error) return { code: body.error.code, message: body.error.message };
  } catch {
    // not JSON
  }
  return { code: `http_${res.status}`, message: `${res.status} ${res.statusText}` };
}

/** What to tell the user when the server refuses the session (a 401, or a closing reason). */
function sessionEndedMessage({ code, message }) {
  if (code === 'token revoked' || code === 'unknown_token') return 'Your session has ended: the token was revoked. Log in with another token.';
  if (code === 'token expired' || code === 'expired_token') return 'Your session has ended: the token has expired. Log in with another token.';
  if (code === 'missing_token' || /web session has ended/.test(message || '')) {
    return 'Your session has ended (logged out, the server restarted, or the token was revoked). Log in again.';
  }
  return `Your session has ended: ${message}.`;
}

// ---------- the web session key ----------

const KEY_STORE = 'tether.sessionKey';
function sessionKey() {
  try {
    return sessionStorage.getItem(KEY_STORE);
  } catch {
    return null;
  }
}
function setSessionKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
  } catch {
    // storage disabled: the key lives as long as the page
  }
  memoryKey = key || null;
}
let memoryKey = null;
const currentKey = () => memoryKey || sessionKey();
/** Headers that authenticate a same-origin request (the browser adds the cookie). */
const authHeaders = () => (currentKey() ? { 'x-tether-session': currentKey() } : {});

/** A same-origin request with the session cookie and key. A 401 ends the web session. */
async function api(method, path, body, init = {}) {
  const headers = { accept: 'application/json', ...authHeaders(), ...(init.headers || {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: init.signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'cannot reach the tether server');
  }
  if (res.status === 401) {
    const e = await errorOf(res);
    endSession(sessionEndedMessage(e));
    throw new SessionEnded(e.message);
  }
  if (!res.ok) {
    const e = await errorOf(res);
    throw new ApiError(res.status, e.code, e.message);
  }
  if (init.raw) return res;
  if (res.status === 204) return null;
  return res.json();
}

// ---------- state ----------

const state = {
  me: null,
  /** read/write/execute */
  can: { read: false, write: false, execute: false },
  terminals: [],
  sessions: [],
  events: null,
  eventsRetry: null,
  /** The mounted view: { name, arg, dispose() }. */
  current: null,
  ending: false,
};

// ---------- other tabs of this origin ----------

/** Logged-in tabs answer a probe with their token's name; a login tells the others it replaced
 * their cookie. Only names travel, nothing is stored. */
const tabs = (() => {
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tether.tabs') : null;
  const loggedIn = () => Boolean(state.me && state.me.id !== null);
  const t = {
    /** Whether this browser sent a login cookie when the page started without a session of its own. */
    loginCookieAtStart: false,
    post(msg) {
      if (channel) channel.postMessage(msg);
    },
    /** The name another tab is logged in as, or null when no tab answers within `ms`. */
    findLoggedIn(ms = 250) {
      if (!channel) return Promise.resolve(null);
      const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
      return new Promise((resolve) => {
        const done = (v) => {
          clearTimeout(timer);
          channel.removeEventListener('message', onMessage);
          resolve(v);
        };
        const onMessage = (ev) => {
          const m = ev.data || {};
          if (m.type === 'here' && m.nonce === nonce) done({ name: String(m.name || 'another token') });
        };
        const timer = setTimeout(() => done(null), ms);
        channel.addEventListener('message', onMessage);
        channel.postMessage({ type: 'probe', nonce });
      });
    },
  };
  if (channel) {
    channel.addEventListener('message', (ev) => {
      const m = ev.data || {};
      if (m.type === 'probe' && loggedIn()) channel.postMessage({ type: 'here', nonce: m.nonce, name: state.me.name });
      if (m.type === 'replaced' && loggedIn()) {
        // Local only: a DELETE /auth/session now would clear the other tab's new cookie.
        state.me = null;
        setSessionKey(null);
        showLogin(`A login${m.name ? ` as ${m.name}` : ''} in another tab ended this tab's session (a browser holds one tether login per server).`, 'info');
      }
    });
  }
  return t;
})();

// ---------- login ----------

function showLogin(message, kind = 'info') {
  teardown();
  show($('app'), false);
  show($('login'));
  const msg = $('login-message');
  msg.textContent = message || '';
  msg.className = `login-message ${kind}`;
  show(msg, Boolean(message));
  show($('login-confirm'), false);
  $('login-submit').disabled = false;
  document.title = 'tether · log in';
  $('login-token').focus();
}

/** Ends the web session locally (the server already refused it) and shows the login page. */
function endSession(message) {
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

async function login(token) {
  $('login-submit').disabled = true;
  try {
    const res = await fetch('/auth/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: token.trim() }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (!res.ok) {
      const e = await errorOf(res);
      const retry = res.headers.get('retry-after');
      const text =
        res.status === 429
          ? `Too many failed attempts. Try again in ${retry || 'a few'} seconds.`
          : res.status === 401 || res.status === 400
            ? `That token was not accepted (${e.message}).`
            : `Login failed: ${e.message}`;
      showLogin(text, 'error');
      return;
    }
    const { sessionKey: key, ...me } = await res.json();
    setSessionKey(key);
    $('login-token').value = '';
    tabs.loginCookieAtStart = false;
    // The cookie just changed for every tab of this origin: tell them why their session ended.
    tabs.post({ type: 'replaced', name: me.name });
    enterApp(me);
  } catch {
    showLogin('Cannot reach the tether server.', 'error');
  }
}

/** The login form: first make sure no other session is silently replaced. */
async function submitLogin(token) {
  $('login-submit').disabled = true;
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
function eraseFragmentToken() {
  if (!location.hash.startsWith('#')) return false;
  if (!new URLSearchParams(location.hash.slice(1)).has('token')) return false;
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

const FRAGMENT_REFUSED =
  'Logging in with a token in the link (#token=…) is not supported: a link stays in the browser history. ' +
  'The token was not used or sent anywhere; paste it below instead. If you did not open this link yourself, ignore it.';

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

// ---------- the app shell ----------

function enterApp(me) {
  state.me = me;
  const perms = new Set(me.permissions);
  state.can = { read: perms.has('read'), write: perms.has('write'), execute: perms.has('execute') };
  show($('login'), false);
  show($('app'));
  document.title = `tether · ${me.name}`;

  $('who-name').textContent = me.name;
  $('who-perms').replaceChildren(
    ...['read', 'write', 'execute'].map((p) =>
      h('span', { className: `perm ${perms.has(p) ? 'on' : 'off'}`, title: perms.has(p) ? `has ${p}` : `no ${p} permission`, dataset: { perm: p } }, p),
    ),
  );
  $('who-exp').textContent = until(me.expiresAt);
  // With --no-auth there is no session to end.
  show($('logout'), me.id !== null);

  const exec = state.can.execute && state.can.read;
  show($('nav-terminals'), exec);
  show($('nav-sessions'), exec);
  show($('no-exec-note'), !state.can.execute);
  for (const id of ['new-terminal', 'new-session', 'home-terminal', 'home-session']) {
    const b = $(id);
    b.disabled = !state.can.write;
    b.title = state.can.write ? b.getAttribute('aria-label') || '' : 'This token has no write permission';
  }
  show($('home-terminal'), exec);
  show($('home-session'), exec);
  $('home-lead').textContent = exec
    ? 'Open a terminal or a session on the left, or start a new one.'
    : 'This token can read the project and its settings. Terminals and sessions need the execute permission.';

  openEvents();
  void refreshLists();
  route();
}

function teardown() {
  if (state.current) {
    try {
      state.current.dispose();
    } catch {
      // ignore
    }
    state.current = null;
  }
  closeEvents();
  clearTimeout(state.eventsRetry);
  state.terminals = [];
  state.sessions = [];
  $('terminal-list').replaceChildren();
  $('session-list').replaceChildren();
  showBanner(null);
}

function showBanner(text, kind = 'info') {
  const b = $('banner');
  b.textContent = text || '';
  b.className = `banner ${kind}`;
  show(b, Boolean(text));
}

function reportError(err) {
  if (err instanceof SessionEnded || (err && err.name === 'AbortError')) return;
  showBanner(err instanceof ApiError ? err.message : String(err && err.message ? err.message : err), 'error');
}

// ---------- live updates (GET /event) ----------

function setConn(live) {
  const c = $('conn');
  c.className = `conn ${live ? 'live' : 'off'}`;
  c.title = live ? 'Live updates on' : 'Live updates reconnecting…';
}

function openEvents() {
  closeEvents();
  if (!state.can.read) return;
  // fetch, not EventSource: EventSource cannot send the session key header.
  const ctl = new AbortController();
  state.events = ctl;
  const retry = () => {
    if (state.events !== ctl) return;
    state.events = null;
    setConn(false);
    void checkSession().then((ok) => {
      if (ok && state.me) state.eventsRetry = setTimeout(openEvents, 3000);
    });
  };
  void (async () => {
    try {
      const res = await api('GET', '/event', undefined, { raw: true, signal: ctl.signal, headers: { accept: 'text/event-stream' } });
      setConn(true);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).replace(/^ /, ''))
            .join('\n');
          if (!data) continue;
          let e;
          try {
            e = JSON.parse(data);
          } catch {
            continue;
          }
          onEvent(e);
        }
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
    }
    retry();
  })();
}

function closeEvents() {
  if (state.events) {
    state.events.abort();
    state.events = null;
  }
}

/** Whether the web session still works (a 401 ends it and shows the login page). */
async function checkSession() {
  if (!state.me) return false;
  try {
    await api('GET', '/auth/whoami');
    return true;
  } catch (err) {
    return !(err instanceof SessionEnded);
  }
}

let listTimer = null;
function refreshListsSoon() {
  clearTimeout(listTimer);
  listTimer = setTimeout(() => void refreshLists(), 100);
}

function onEvent(e) {
  const type = String(e.type || '');
  const p = e.properties || {};
  if (type === 'server.closing') {
    const reason = String(p.reason || '');
    if (reason.startsWith('token')) endSession(sessionEndedMessage({ code: reason, message: reason }));
    else showBanner(`The server is closing (${reason}).`, 'error');
    return;
  }
  if (type.startsWith('pty.') || type.startsWith('session.')) refreshListsSoon();
  if (state.current && state.current.onEvent) state.current.onEvent(type, p);
}

async function refreshLists() {
  if (!state.me || !state.can.execute || !state.can.read) return;
  try {
    const [ptys, ses] = await Promise.all([api('GET', '/pty'), api('GET', '/session')]);
    state.terminals = ptys;
    state.sessions = ses.sessions;
    renderLists();
  } catch (err) {
    reportError(err);
  }
}

/** One sidebar list: a link per item, or an "empty" line. */
function renderList(listId, items, emptyText, route, item) {
  const cur = state.current;
  $(listId).replaceChildren(
    ...(items.length === 0
      ? [h('li', { className: 'empty' }, emptyText)]
      : items.map((x) => {
          const { dot, label, meta } = item(x);
          return h(
            'li',
            {},
            h(
              'a',
              { href: `#/${route}/${encodeURIComponent(x.id)}`, className: cur && cur.name === route && cur.arg === x.id ? 'active' : '', dataset: { id: x.id } },
              h('span', { className: `dot ${dot}` }),
              h('span', { className: 'label' }, label),
              h('span', { className: 'meta' }, meta),
            ),
          );
        })),
  );
}

function renderLists() {
  renderList('terminal-list', state.terminals, 'No terminals yet', 'terminal', (t) => ({
    dot: t.status === 'running' ? 'ok' : 'off',
    label: t.title || t.command,
    meta: t.status === 'running' ? ago(t.createdAt) : `exited ${t.exitCode ?? `sig ${t.signal}`}`,
  }));
  renderList('session-list', state.sessions, 'No sessions yet', 'session', (s) => ({
    dot: s.busy ? 'busy' : 'idle',
    label: s.title,
    meta: ago(s.updatedAt),
  }));
  const cur = state.current;
  if (cur && cur.name === 'terminal' && cur.arg && state.terminals.some((t) => t.id === cur.arg)) $('term-title').textContent = terminalTitle(cur.arg);
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', Boolean(cur && cur.name === a.dataset.nav));
}

// ---------- routing: #/terminal/<id>, #/session/<id>, #/files/<path>, #/config ----------

function parseRoute() {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash);
  if (!m) return { name: 'home', arg: null };
  let arg = null;
  try {
    arg = m[2] === undefined ? null : decodeURIComponent(m[2]);
  } catch {
    arg = null;
  }
  return { name: m[1], arg };
}

function route() {
  if (!state.me) return;
  let { name, arg } = parseRoute();
  const exec = state.can.execute && state.can.read;
  if ((name === 'terminal' || name === 'session') && (!exec || !arg)) name = 'home';
  if (!['home', 'terminal', 'session', 'files', 'config'].includes(name)) name = 'home';
  const cur = state.current;
  if (cur && cur.name === name && cur.arg === arg) return;
  if (cur) cur.dispose();
  state.current = null;
  showBanner(null);
  for (const v of ['home', 'terminal', 'session', 'files', 'config']) show($(`view-${v}`), v === name);
  const mount = { home: mountHome, terminal: mountTerminal, session: mountSession, files: mountFiles, config: mountConfig }[name];
  state.current = { name, arg, dispose() {} };
  const mounted = mount(arg);
  state.current = { name, arg, ...mounted };
  renderLists();
}

function navigate(hash, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', hash);
  else history.pushState(null, '', hash);
  route();
}

function mountHome() {
  return { dispose() {} };
}

// ---------- terminals ----------

const TERM_THEME = {
  background: '#0b0e14',
  foreground: '#d6dbe5',
  cursor: '#7aa2f7',
  cursorAccent: '#0b0e14',
  selectionBackground: '#2a3a5a',
  black: '#1c2230',
  red: '#f7768e',
  green: '#9ece6a',
  yellow: '#e0af68',
  blue: '#7aa2f7',
  magenta: '#bb9af7',
  cyan: '#7dcfff',
  white: '#c0caf5',
  brightBlack: '#4a5366',
  brightRed: '#ff7a93',
  brightGreen: '#b9f27c',
  brightYellow: '#ff9e64',
  brightBlue: '#7da6ff',
  brightMagenta: '#c9a7ff',
  brightCyan: '#a4e1ff',
  brightWhite: '#eef1f8',
};

const encoder = new TextEncoder();

/** An xterm.js terminal in #term, attached over the WebSocket to one server terminal. */
class TerminalView {
  constructor(container) {
    this.container = container;
    this.id = null;
    this.ws = null;
    this.disposed = false;
    this.term = new Terminal({
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "Fira Code", "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 14,
      lineHeight: 1.15,
      scrollback: 5000,
      theme: TERM_THEME,
      allowProposedApi: false,
    });
    this.fit = new FitAddon();
    this.term.loadAddon(this.fit);
    container.replaceChildren();
    this.term.open(container);
    this.refit();
    let pending = false;
    this.observer = new ResizeObserver(() => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.refit();
      });
    });
    this.observer.observe(container);
    this.term.onResize(({ cols, rows }) => this.sendControl({ type: 'resize', cols, rows }));
    this.term.onData((data) => this.sendBytes(encoder.encode(data)));
    this.term.onBinary((data) => this.sendBytes(Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff)));
  }

  refit() {
    if (this.disposed || this.container.clientWidth === 0 || this.container.clientHeight === 0) return;
    try {
      this.fit.fit();
    } catch {
      // not laid out yet
    }
  }

  size() {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  connect(id) {
    this.id = id;
    setTermStatus('connecting…', 'pending');
    const url = new URL(`/pty/${encodeURIComponent(id)}/connect`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Same origin: the browser sends the session cookie and our Origin; `tether` is the subprotocol.
    // Same origin: the browser sends the cookie and our Origin; the session key rides in a
    // subprotocol offer (a WebSocket cannot carry headers); the server selects only `tether`.
    const key = currentKey();
    const ws = new WebSocket(url, key ? ['tether', `tether.session.${key}`] : ['tether']);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      setTermStatus('connected', 'ok');
      this.sendControl({ type: 'resize', ...this.size() });
      this.term.focus();
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch {
          return;
        }
        if (msg.type === 'exit') {
          const how = msg.signal !== null && msg.signal !== undefined ? `killed by signal ${msg.signal}` : `exited with code ${msg.exitCode}`;
          this.term.write(`\r\n\x1b[2m[process ${how}]\x1b[0m\r\n`);
          setTermStatus(how, 'off');
        } else if (msg.type === 'error') {
          showBanner(`Terminal: ${msg.message}`, 'error');
        }
        return;
      }
      this.term.write(new Uint8Array(ev.data));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.disposed) return;
      this.ws = null;
      if (ev.code === 4401) {
        endSession(sessionEndedMessage({ code: ev.reason || 'token revoked', message: ev.reason }));
      } else if (ev.code === 1000) {
        refreshListsSoon();
      } else if (ev.code === 4404) {
        setTermStatus('this terminal no longer exists', 'off');
      } else if (ev.code === 1001) {
        setTermStatus('the server is shutting down', 'off');
      } else {
        setTermStatus(opened ? `disconnected${ev.reason ? `: ${ev.reason}` : ''}` : 'could not connect', 'off', () => this.connect(id));
        // A refused handshake carries no status to the page: ask whether the session still works.
        void checkSession();
      }
    };
  }

  sendBytes(bytes) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  sendControl(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  dispose() {
    this.disposed = true;
    this.observer.disconnect();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'view closed');
    }
    this.term.dispose();
    this.container.replaceChildren();
  }
}

function setTermStatus(text, kind, retry) {
  const s = $('term-status');
  s.className = `status ${kind}`;
  s.replaceChildren(text);
  if (retry) s.append(' ', h('button', { type: 'button', className: 'link', onclick: retry }, 'Reconnect'));
}

function terminalTitle(id) {
  const t = state.terminals.find((x) => x.id === id);
  return t ? `${t.title || t.command}` : 'Terminal';
}

function mountTerminal(id) {
  $('term-title').textContent = terminalTitle(id);
  $('term-title').title = id;
  const view = new TerminalView($('term'));
  view.connect(id);
  const kill = $('term-kill');
  kill.disabled = !state.can.write;
  kill.onclick = async () => {
    try {
      await api('DELETE', `/pty/${encodeURIComponent(id)}`);
      navigate('#/', { replace: true });
      refreshListsSoon();
    } catch (err) {
      reportError(err);
    }
  };
  return {
    view,
    dispose: () => view.dispose(),
    onEvent(type, p) {
      if (type === 'pty.updated' && p.info && p.info.id === id) $('term-title').textContent = p.info.title || p.info.command;
    },
  };
}

/** Opens the terminal view first (so its size is known), then creates the terminal at that size. */
async function newTerminal() {
  if (!state.can.write) return;
  const cur = state.current;
  if (cur) cur.dispose();
  for (const v of ['home', 'terminal', 'session', 'files', 'config']) show($(`view-${v}`), v === 'terminal');
  showBanner(null);
  $('term-title').textContent = 'New terminal';
  const view = new TerminalView($('term'));
  state.current = { name: 'terminal', arg: null, view, dispose: () => view.dispose() };
  setTermStatus('starting…', 'pending');
  try {
    const info = await api('POST', '/pty', view.size());
    if (!state.current || state.current.view !== view) return;
    state.terminals = [...state.terminals.filter((t) => t.id !== info.id), info];
    history.pushState(null, '', `#/terminal/${encodeURIComponent(info.id)}`);
    state.current.arg = info.id;
    $('term-title').textContent = info.title || info.command;
    $('term-title').title = info.id;
    const kill = $('term-kill');
    kill.disabled = false;
    kill.onclick = async () => {
      try {
        await api('DELETE', `/pty/${encodeURIComponent(info.id)}`);
        navigate('#/', { replace: true });
        refreshListsSoon();
      } catch (err) {
        reportError(err);
      }
    };
    view.connect(info.id);
    renderLists();
  } catch (err) {
    setTermStatus('could not start a terminal', 'off');
    reportError(err);
  }
}

// ---------- sessions ----------

function partView(part) {
  const d = part.data || {};
  switch (part.type) {
    case 'text':
      return h('div', { className: 'part text' }, d.text || '');
    case 'reasoning':
      return h('details', { className: 'part reasoning' }, h('summary', {}, 'Thinking'), h('div', { className: 'text' }, d.text || ''));
    case 'tool_call':
      return h(
        'details',
        { className: 'part tool' },
        h('summary', {}, h('span', { className: 'tool-name' }, d.toolName || 'tool'), ' ', h('span', { className: 'muted args' }, preview(d.input))),
        h('pre', {}, JSON.stringify(d.input, null, 2)),
      );
    case 'tool_result': {
      const out = d.output;
      const text = typeof out === 'string' ? out : JSON.stringify(out, null, 2);
      return h(
        'details',
        { className: `part tool ${d.isError ? 'bad' : ''}` },
        h('summary', {}, h('span', { className: 'tool-name' }, d.toolName || 'tool'), ' ', h('span', { className: 'muted' }, d.isError ? 'failed' : 'result')),
        h('pre', {}, text),
      );
    }
    case 'error':
      return h('div', { className: 'part error' }, d.message || 'error');
    case 'shell':
      return shellView(d);
    default:
      return h('details', { className: 'part' }, h('summary', {}, part.type), h('pre', {}, JSON.stringify(d, null, 2)));
  }
}

/** A one-line preview of a tool's input, e.g. `path: "src/a.ts"`. */
function preview(input) {
  let text;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    text = Object.entries(input)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
  } else {
    text = JSON.stringify(input) ?? '';
  }
  return text.length > 100 ? `${text.slice(0, 99)}…` : text;
}

function shellView(d) {
  const out = [];
  if (d.stdout) out.push(h('pre', { className: 'stdout' }, d.stdout));
  if (d.stderr) out.push(h('pre', { className: 'stderr' }, d.stderr));
  if (d.done && !d.stdout && !d.stderr) out.push(h('div', { className: 'muted small no-output' }, 'no output'));
  const notes = [];
  if (d.stdoutTruncated || d.stderrTruncated) notes.push('output truncated');
  if (d.timedOut) notes.push('timed out');
  if (d.aborted) notes.push('stopped');
  let badge;
  if (!d.done) badge = h('span', { className: 'badge pending' }, 'running…');
  else if (d.signal) badge = h('span', { className: 'badge bad' }, `signal ${d.signal}`);
  else badge = h('span', { className: `badge ${d.exitCode === 0 ? 'ok' : 'bad'}` }, `exit ${d.exitCode}`);
  return h(
    'div',
    { className: 'part shell' },
    h('div', { className: 'shell-cmd' }, h('span', { className: 'prompt' }, '$'), h('code', {}, d.command || '')),
    ...out,
    h(
      'div',
      { className: 'shell-foot' },
      badge,
      d.durationMs !== null && d.durationMs !== undefined ? h('span', { className: 'muted' }, `${(d.durationMs / 1000).toFixed(2)} s`) : null,
      notes.length ? h('span', { className: 'muted' }, notes.join(' · ')) : null,
    ),
  );
}

const ROLE_LABEL = { user: 'You', assistant: 'Agent', shell: 'Shell' };

function messageView(m) {
  const status =
    m.status === 'completed'
      ? null
      : h('span', { className: `badge ${m.status === 'error' ? 'bad' : m.status === 'aborted' ? 'off' : 'pending'}` }, m.status === 'running' || m.status === 'pending' ? 'running…' : m.status);
  return h(
    'article',
    { className: `msg ${m.role}`, dataset: { id: m.id, status: m.status } },
    h('header', {}, h('span', { className: 'role' }, ROLE_LABEL[m.role] || m.role), h('time', { dateTime: m.createdAt, title: m.createdAt }, new Date(m.createdAt).toLocaleTimeString()), status),
    ...m.parts.slice().sort((a, b) => a.seq - b.seq).map(partView),
    m.error && m.status !== 'completed' ? h('div', { className: 'part error' }, m.error) : null,
  );
}

/** Reads an SSE response body and calls `onEvent(type, data)` for each event. */
async function readEventStream(res, onEvent) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let end;
    while ((end = buf.search(/\r?\n\r?\n/)) !== -1) {
      const block = buf.slice(0, end);
      buf = buf.slice(end).replace(/^\r?\n\r?\n/, '');
      let type = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const val = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') type = val;
        else if (field === 'data') data.push(val);
      }
      if (data.length === 0) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        continue;
      }
      onEvent(type, parsed);
    }
  }
}

function mountSession(id) {
  const messagesEl = $('messages');
  messagesEl.replaceChildren(h('p', { className: 'muted' }, 'Loading…'));
  $('ses-title').textContent = 'Session';
  $('ses-dir').textContent = '';
  $('ses-status').textContent = '';
  const input = $('composer-input');
  const send = $('composer-send');
  const abortBtn = $('ses-abort');
  const messages = new Map();
  let alive = true;
  let streaming = null; // AbortController of our own request
  let reloadTimer = null;
  let renderPending = false;

  const render = () => {
    if (renderPending) return;
    renderPending = true;
    requestAnimationFrame(() => {
      renderPending = false;
      if (!alive) return;
      const nearBottom = messagesEl.scrollHeight - messagesEl.scrollTop - messagesEl.clientHeight < 80;
      const list = [...messages.values()].sort((a, b) => a.seq - b.seq);
      messagesEl.replaceChildren(
        ...(list.length === 0 ? [h('p', { className: 'muted empty-msgs' }, 'No messages yet. Ask the agent something, or switch to Shell and run a command.')] : list.map(messageView)),
      );
      if (nearBottom || streaming) messagesEl.scrollTop = messagesEl.scrollHeight;
    });
  };

  const setBusy = (busy) => {
    send.disabled = busy || !state.can.write;
    send.textContent = busy ? 'Running…' : 'Send';
    show(abortBtn, busy && state.can.write);
    $('ses-status').className = `status ${busy ? 'pending' : 'ok'}`;
    $('ses-status').textContent = busy ? 'running' : '';
  };

  const load = async () => {
    try {
      const [info, list] = await Promise.all([api('GET', `/session/${encodeURIComponent(id)}`), api('GET', `/session/${encodeURIComponent(id)}/message`)]);
      if (!alive) return;
      $('ses-title').textContent = info.title;
      $('ses-dir').textContent = info.directory;
      if (!streaming) {
        messages.clear();
        for (const m of list.messages) messages.set(m.id, m);
        setBusy(info.busy);
      }
      render();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        messagesEl.replaceChildren(h('p', { className: 'muted' }, 'This session no longer exists.'));
        send.disabled = true;
        return;
      }
      reportError(err);
    }
  };

  const applyEvent = (type, props) => {
    if (type === 'message.created' && props.message) {
      messages.set(props.message.id, { ...props.message, parts: props.message.parts || [] });
    } else if ((type === 'message.part' || type === 'message.part.updated') && props.part) {
      const m = messages.get(props.part.messageId);
      if (m) m.parts = [...m.parts.filter((p) => p.id !== props.part.id), props.part];
    } else if (type === 'message.part.delta') {
      const m = messages.get(props.messageId);
      const part = m && m.parts.find((p) => p.id === props.partId);
      if (part) {
        const text = (part.data && part.data.text) || '';
        part.data = { ...part.data, text: text.slice(0, props.offset) + props.text };
      }
    } else if (type === 'message.completed') {
      const m = messages.get(props.messageId);
      if (m) Object.assign(m, { status: props.status, error: props.error });
    } else if (type === 'done' && props.message) {
      messages.set(props.message.id, props.message);
    }
    render();
  };

  const submit = async (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim() || streaming || !state.can.write) return;
    const mode = document.querySelector('input[name="mode"]:checked').value;
    const ctrl = new AbortController();
    streaming = ctrl;
    setBusy(true);
    showBanner(null);
    try {
      const res = await api('POST', `/session/${encodeURIComponent(id)}/${mode === 'shell' ? 'shell' : 'message'}`, mode === 'shell' ? { command: text } : { text }, {
        headers: { accept: 'text/event-stream' },
        signal: ctrl.signal,
        raw: true,
      });
      input.value = '';
      let failure = null;
      await readEventStream(res, (type, data) => {
        if (type === 'error') failure = data.properties && data.properties.error;
        else applyEvent(type, data.properties || {});
      });
      if (failure) {
        if (failure.code === 'token_revoked' || failure.code === 'token_expired') endSession(sessionEndedMessage({ code: failure.code.replace('_', ' '), message: failure.message }));
        else showBanner(failure.message, 'error');
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 'no_provider') showBanner(`${err.message} You can still run shell commands: switch to Shell.`, 'error');
      else reportError(err);
    } finally {
      if (streaming === ctrl) streaming = null;
      if (alive) {
        setBusy(false);
        void load();
        refreshListsSoon();
        input.focus();
      }
    }
  };

  const keydown = (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('composer').requestSubmit();
    }
  };
  const modeChange = () => {
    const shell = document.querySelector('input[name="mode"]:checked').value === 'shell';
    input.placeholder = shell ? 'A shell command, e.g. ls -la' : 'Ask the agent…';
    input.classList.toggle('mono', shell);
    input.focus();
  };

  $('composer').onsubmit = submit;
  input.onkeydown = keydown;
  for (const r of document.querySelectorAll('input[name="mode"]')) r.onchange = modeChange;
  input.disabled = !state.can.write;
  input.placeholder = state.can.write ? input.placeholder : 'This token has no write permission';
  send.disabled = !state.can.write;
  abortBtn.onclick = async () => {
    try {
      await api('POST', `/session/${encodeURIComponent(id)}/abort`);
    } catch (err) {
      reportError(err);
    }
  };
  $('ses-delete').disabled = !state.can.write;
  $('ses-delete').onclick = async () => {
    if (!confirm('Delete this session and all its messages?')) return;
    try {
      await api('DELETE', `/session/${encodeURIComponent(id)}`);
      navigate('#/', { replace: true });
      refreshListsSoon();
    } catch (err) {
      reportError(err);
    }
  };
  void load();
  setTimeout(() => alive && input.focus(), 0);

  return {
    dispose() {
      alive = false;
      clearTimeout(reloadTimer);
      if (streaming) streaming.abort();
      streaming = null;
      $('composer').onsubmit = null;
      input.onkeydown = null;
      input.value = '';
    },
    onEvent(type, p) {
      // Someone else (another tab, the CLI) working in this session: reload when it changes.
      if (streaming || p.sessionId !== id) return;
      if (type === 'session.deleted') return void load();
      if (type.startsWith('message.') || type === 'session.updated') {
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(() => void load(), 150);
      }
    },
  };
}

async function newSession() {
  if (!state.can.write) return;
  try {
    const s = await api('POST', '/session', {});
    state.sessions = [s, ...state.sessions.filter((x) => x.id !== s.id)];
    navigate(`#/session/${encodeURIComponent(s.id)}`);
  } catch (err) {
    reportError(err);
  }
}

// ---------- files (read) ----------

function mountFiles(arg) {
  const dir = arg || '.';
  const list = $('file-list');
  const viewer = $('file-view');
  show(viewer, false);
  list.replaceChildren(h('li', { className: 'muted' }, 'Loading…'));
  let alive = true;

  const crumbs = (p) => {
    const parts = p === '.' ? [] : p.split('/').filter(Boolean);
    const items = [h('a', { href: '#/files' }, 'project')];
    parts.forEach((seg, i) => {
      items.push(h('span', { className: 'sep' }, '/'));
      items.push(h('a', { href: `#/files/${encodeURIComponent(parts.slice(0, i + 1).join('/'))}` }, seg));
    });
    $('crumbs').replaceChildren(...items);
  };
  crumbs(dir);

  const openFile = async (entry, row) => {
    for (const r of list.querySelectorAll('.selected')) r.classList.remove('selected');
    row.classList.add('selected');
    $('file-name').textContent = entry.path;
    $('file-size').textContent = formatBytes(entry.size);
    $('file-content').textContent = 'Loading…';
    show(viewer);
    try {
      const f = await api('GET', `/file/content?path=${encodeURIComponent(entry.path)}`);
      if (!alive) return;
      $('file-content').textContent = f.encoding === 'utf8' ? f.content : `(binary file, ${formatBytes(f.size)})`;
    } catch (err) {
      if (err instanceof ApiError) $('file-content').textContent = err.message;
      else reportError(err);
    }
  };

  (async () => {
    try {
      const listing = await api('GET', `/file?path=${encodeURIComponent(dir)}`);
      if (!alive) return;
      crumbs(listing.path);
      const rows = listing.entries.map((e) => {
        const isDir = e.type === 'directory';
        const row = h(
          'li',
          { className: `entry ${e.type}` },
          h('span', { className: 'icon', 'aria-hidden': 'true' }, isDir ? '▸' : '·'),
          h('span', { className: 'name' }, e.name + (isDir ? '/' : '')),
          h('span', { className: 'meta' }, isDir ? '' : formatBytes(e.size)),
        );
        row.tabIndex = 0;
        row.onclick = () => (isDir ? navigate(`#/files/${encodeURIComponent(e.path)}`) : void openFile(e, row));
        row.onkeydown = (ev) => ev.key === 'Enter' && row.onclick();
        return row;
      });
      list.replaceChildren(...(rows.length ? rows : [h('li', { className: 'muted empty' }, 'This directory is empty.')]));
      if (listing.truncated) list.append(h('li', { className: 'muted' }, '… more entries not shown'));
    } catch (err) {
      if (err instanceof ApiError) list.replaceChildren(h('li', { className: 'muted' }, err.message));
      else reportError(err);
    }
  })();
  return {
    dispose() {
      alive = false;
    },
  };
}

// ---------- settings (read) ----------

function mountConfig() {
  const dl = $('config');
  dl.replaceChildren(h('dt', {}, 'Loading…'));
  let alive = true;
  const load = async () => {
    try {
      const c = await api('GET', '/config');
      if (!alive) return;
      const rows = [
        ['Shell', c.shell ?? 'default ($SHELL)'],
        ['Model URL', c.modelUrl ?? 'not set'],
        ['Model', c.model ?? 'not set'],
        ['API key', c.apiKeySet ? 'set (hidden)' : 'not set'],
        ['Agent max steps', c.agentMaxSteps ?? 'default'],
      ];
      dl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
    } catch (err) {
      reportError(err);
    }
  };
  void load();
  return {
    dispose() {
      alive = false;
    },
    onEvent(type) {
      if (type === 'config.updated') void load();
    },
  };
}

// ---------- start ----------

function wire() {
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('login-token').value;
    if (token.trim() && !$('login-submit').disabled) void submitLogin(token);
  });
  $('logout').addEventListener('click', () => void logout());
  $('new-terminal').addEventListener('click', () => void newTerminal());
  $('home-terminal').addEventListener('click', () => void newTerminal());
  $('new-session').addEventListener('click', () => void newSession());
  $('home-session').addEventListener('click', () => void newSession());
  window.addEventListener('hashchange', () => {
    if (!eraseFragmentToken()) return route();
    if (state.me) showBanner(FRAGMENT_REFUSED, 'error');
    else showLogin(FRAGMENT_REFUSED, 'error');
  });
  window.addEventListener('popstate', () => route());
}

async function boot() {
  wire();
  const refused = eraseFragmentToken();
  // An existing session cookie? (HttpOnly: only the server can tell.)
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

void boot();
