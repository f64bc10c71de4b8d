// @ts-check
// The share page, /share#<token> (README "Share links"): a read-only view of the one terminal or
// agent session a share link's token is bound to, with a "view only" banner and the time left.
// The server decides what the token reaches (SHARE_RULES in src/auth/policy.ts); this page only
// reads: it never sends a keystroke, a resize or a write. Its state is on <body data-state>
// (starting, live, offline, ended, gone, revoked, expired, invalid, refused) for the browser tests.
//
// csp-styles.js comes first: it must patch the DOM before xterm.js ever runs.
import './csp-styles.js';
import { $, h, show } from './modules/dom.js';
import { keepToken, readShareEvents, shareJson, takeToken } from './modules/share-api.js';
import { SessionViewer } from './modules/share-session.js';
import { TerminalViewer } from './modules/share-terminal.js';

const RETRY_MS = 3000;

/** @type {string} */
let token = '';
let expiresAt = Infinity;
let finished = false;
/** @type {ReturnType<typeof setInterval> | undefined} */
let ticker;
/** @type {AbortController | null} */
let events = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;
/** @type {{ dispose(): void } | null} */
let viewer = null;

function setStatus(/** @type {string} */ text, /** @type {string} */ kind) {
  const s = $('share-status');
  s.className = `status ${kind}`;
  s.textContent = text;
}

function banner(/** @type {string | null} */ text, kind = 'info', /** @type {(() => void) | undefined} */ retry = undefined) {
  const b = $('share-banner');
  b.className = `share-banner ${kind}`;
  b.replaceChildren(text || '');
  if (retry) b.append(' ', h('button', { type: 'button', className: 'link', onclick: retry }, 'Reconnect'));
  show(b, Boolean(text));
}

/** Ends the view for good: the link no longer works, or what it shows has ended. */
function finish(/** @type {string} */ state, /** @type {string} */ message) {
  if (finished) return;
  finished = true;
  document.body.dataset.state = state;
  document.body.dataset.endedAt = String(Date.now());
  clearInterval(ticker);
  clearTimeout(retryTimer);
  events?.abort();
  events = null;
  viewer?.dispose();
  const over = state === 'revoked' || state === 'expired';
  if (over || state === 'invalid' || state === 'refused') $('share-left').textContent = '';
  setStatus(state === 'ended' || state === 'gone' ? 'ended' : 'not watching', 'off');
  banner(message, over || state === 'invalid' || state === 'refused' ? 'error' : 'info');
}

function tokenGone(/** @type {string} */ reason) {
  keepToken(null);
  if (reason === 'token expired') finish('expired', 'This share link has expired: the view has ended. Ask for a new link to keep watching.');
  else finish('revoked', 'This share link was revoked: the view has ended.');
}

function offline(/** @type {string} */ text, /** @type {() => void} */ retry) {
  if (finished) return;
  document.body.dataset.state = 'offline';
  setStatus('disconnected', 'off');
  banner(text, 'error', () => {
    banner(null);
    retry();
  });
}

function live(/** @type {string} */ text) {
  if (finished) return;
  document.body.dataset.state = 'live';
  setStatus(text, 'ok');
  banner(null);
}

/** What a refused request means for the view. */
function failed(/** @type {unknown} */ err, /** @type {string} */ noun) {
  const e = /** @type {{ status?: number, code?: string }} */ (err);
  if (e.status === 401) return tokenGone(e.code === 'expired_token' ? 'token expired' : 'token revoked');
  if (e.status === 404) return finish('gone', `The shared ${noun} no longer exists.`);
  offline(`Cannot reach the tether server (${e.code || 'network error'}).`, () => location.reload());
}

function leftText(/** @type {number} */ ms) {
  if (ms <= 0) return 'expiring…';
  const s = Math.ceil(ms / 1000);
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}:${two(s % 60)} left`;
  if (s < 2 * 86400) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min left`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h left`;
}

function startCountdown() {
  const tick = () => {
    $('share-left').textContent = leftText(expiresAt - Date.now());
  };
  tick();
  ticker = setInterval(tick, 1000);
}

/** GET /event for this link's target; reopened after a drop while the link still works. */
function openEvents(/** @type {(type: string, p: EventProps) => void} */ onEvent) {
  const ctl = new AbortController();
  events = ctl;
  void (async () => {
    try {
      await readShareEvents(
        token,
        (type, p) => {
          if (type !== 'server.closing') return onEvent(type, p);
          const reason = String(p.reason || '');
          if (reason.startsWith('token')) tokenGone(reason);
          else offline(`The server is closing (${reason}).`, () => location.reload());
        },
        ctl.signal,
      );
    } catch {
      if (ctl.signal.aborted) return;
    }
    if (events !== ctl || finished) return;
    retryTimer = setTimeout(() => {
      shareJson(token, '/auth/whoami').then(
        () => !finished && openEvents(onEvent),
        (err) => failed(err, 'view'),
      );
    }, RETRY_MS);
  })();
}

async function watchTerminal(/** @type {string} */ id) {
  /** @type {TerminalInfo & { cols: number, rows: number }} */
  const info = await shareJson(token, `/pty/${encodeURIComponent(id)}`);
  $('share-title').textContent = `Terminal · ${info.title || info.command}`;
  show($('share-terminal'));
  const v = new TerminalViewer($('share-term'), token, info, {
    live,
    targetEnded: (text) => finish('ended', text),
    tokenGone,
    offline,
  });
  viewer = v;
  v.connect();
  openEvents((type, p) => {
    if (type === 'pty.updated' && p.info && p.info.id === id) {
      v.resize(Number(p.info.cols), Number(p.info.rows));
      $('share-title').textContent = `Terminal · ${p.info.title || p.info.command}`;
    }
  });
}

async function watchSession(/** @type {string} */ id) {
  /** @type {SessionInfo} */
  const info = await shareJson(token, `/session/${encodeURIComponent(id)}`);
  const title = (/** @type {string} */ t) => ($('share-title').textContent = `Session · ${t}`);
  title(info.title);
  $('share-dir').textContent = info.directory;
  show($('share-session'));
  const v = new SessionViewer($('share-messages'), token, id, title);
  viewer = v;
  await v.load();
  openEvents((type, p) => {
    // (Re)connected: whatever happened meanwhile is read again.
    if (type === 'server.connected') {
      live('watching live');
      return void v.load().catch((err) => failed(err, 'session'));
    }
    if (type === 'session.deleted') return finish('ended', 'This session was deleted: there is nothing more to watch.');
    v.onEvent(type, p);
  });
}

async function start() {
  const t = takeToken();
  if (t.malformed || !t.token) {
    return finish(
      'invalid',
      t.malformed
        ? 'This share link is incomplete or damaged: open the whole link you were given (it ends with #tether_…).'
        : 'This page shows a shared terminal or session: open the share link you were given (…/share#tether_…).',
    );
  }
  token = t.token;
  /** @type {Me} */
  let me;
  try {
    me = await shareJson(token, '/auth/whoami');
  } catch (err) {
    return failed(err, 'view');
  }
  if (me.kind !== 'share' || !me.target) {
    keepToken(null);
    return finish(
      'refused',
      'This link carries an access token, not a share link, so this page shows nothing with it. To use the web UI, paste a token at / ' +
        '(and revoke a token that has travelled in a link).',
    );
  }
  keepToken(token);
  expiresAt = me.expiresAt ? Date.parse(me.expiresAt) : Infinity;
  startCountdown();
  const { type, id } = me.target;
  try {
    if (type === 'pty') await watchTerminal(id);
    else await watchSession(id);
  } catch (err) {
    failed(err, type === 'pty' ? 'terminal' : 'session');
  }
}

// A new link pasted over this one: start again with it.
window.addEventListener('hashchange', () => location.reload());
void start();
