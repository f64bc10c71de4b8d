// @ts-check
// Live updates: GET /event, read with fetch (EventSource cannot send the session key header) and
// the shared parser (sse.js). Lifecycle events refresh the sidebar and go to the screen on show;
// `server.closing` for a token reason ends the session. A dropped stream is reopened after 3 s,
// once a whoami says the session still works (a 401 there shows the login page instead).
import { SessionEnded, api, apiStream, endSession, sessionEndedMessage } from './api.js';
import { refreshListsSoon } from './lists.js';
import { readJsonEvents } from './sse.js';
import { state } from './state.js';
import { setConn, showBanner } from './status.js';

const RECONNECT_MS = 3000;

/** @type {AbortController | null} */
let events = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;

export function openEvents() {
  closeEvents();
  if (!state.can.read) return;
  const ctl = new AbortController();
  events = ctl;
  const retry = () => {
    if (events !== ctl) return;
    events = null;
    setConn(false);
    void checkSession().then((ok) => {
      if (ok && state.me) retryTimer = setTimeout(openEvents, RECONNECT_MS);
    });
  };
  void (async () => {
    try {
      const res = await apiStream('GET', '/event', undefined, ctl.signal);
      setConn(true);
      await readJsonEvents(res, (_type, e) => onEvent(e));
    } catch {
      if (ctl.signal.aborted) return;
    }
    retry();
  })();
}

export function closeEvents() {
  clearTimeout(retryTimer);
  if (events) {
    events.abort();
    events = null;
  }
}

/** Whether the web session still works (a 401 ends it and shows the login page). */
export async function checkSession() {
  if (!state.me) return false;
  try {
    await api('GET', '/auth/whoami');
    return true;
  } catch (err) {
    return !(err instanceof SessionEnded);
  }
}

/** One event from GET /event: `{ type, properties }`. */
function onEvent(/** @type {{ type?: unknown, properties?: EventProps } | null} */ e) {
  if (!e || typeof e !== 'object') return;
  const type = String(e.type || '');
  const p = e.properties || {};
  if (type === 'server.closing') {
    const reason = String(p.reason || '');
    if (reason.startsWith('token')) endSession(sessionEndedMessage({ code: reason, message: reason }));
    else showBanner(`The server is closing (${reason}).`, 'error');
    return;
  }
  if (type.startsWith('pty.') || type.startsWith('session.')) refreshListsSoon();
  const cur = state.current;
  if (cur && cur.onEvent) cur.onEvent(type, p);
}
