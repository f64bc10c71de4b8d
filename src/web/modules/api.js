// @ts-check
// The API client: same-origin requests authenticated by the login cookie (HttpOnly: the browser
// adds it) plus the session key the login returned, sent as the X-Tether-Session header. Cookies are
// shared by every port of a host, the key is not: it lives in sessionStorage, which is per origin.
// Any 401 means the web session ended (logout elsewhere, token deleted or expired).

export class ApiError extends Error {
  /**
   * @param {number} status 0 when the server could not be reached
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Thrown after a 401: the session has ended and the login page is showing. */
export class SessionEnded extends Error {}

/** @typedef {{ code: string, message: string }} ErrorBody */

/** The `{ error: { code, message } }` of an error answer, or one made from its status. */
export async function errorOf(/** @type {Response} */ res) {
  try {
    const body = await res.json();
    if (body && body.error) return /** @type {ErrorBody} */ ({ code: String(body.error.code), message: String(body.error.message) });
  } catch {
    // not JSON
  }
  return { code: `http_${res.status}`, message: `${res.status} ${res.statusText}` };
}

/** What to tell the user when the server refuses the session (a 401, or a closing reason). */
export function sessionEndedMessage(/** @type {{ code: string, message?: string | null }} */ { code, message }) {
  if (code === 'token revoked' || code === 'unknown_token') return 'Your session has ended: the token was revoked. Log in with another token.';
  if (code === 'token expired' || code === 'expired_token') return 'Your session has ended: the token has expired. Log in with another token.';
  if (code === 'missing_token' || /web session has ended/.test(message || '')) {
    return 'Your session has ended (logged out, the server restarted, or the token was revoked). Log in again.';
  }
  return `Your session has ended: ${message}.`;
}

// ---------- the session's end ----------

/** @type {(message: string) => void} */
let endedHandler = () => {};

/** Who shows the login page when the server refuses the session (set once at start, by app.js). */
export function onSessionEnded(/** @type {(message: string) => void} */ handler) {
  endedHandler = handler;
}

/** The server refused the session: end it here and show the login page saying why. */
export function endSession(/** @type {string} */ message) {
  endedHandler(message);
}

// ---------- the web session key ----------

const KEY_STORE = 'tether.sessionKey';
/** A paired device's key (pair.js): kept across tabs and browser restarts, per origin like the other. */
const DEVICE_KEY_STORE = 'tether.deviceKey';
/** @type {string | null} */
let memoryKey = null;

function storedKey() {
  try {
    return sessionStorage.getItem(KEY_STORE) || localStorage.getItem(DEVICE_KEY_STORE);
  } catch {
    return null;
  }
}

/** `remember`: a paired device's login, whose key must outlive the tab (it has no token to log in again). */
export function setSessionKey(/** @type {string | null} */ key, remember = false) {
  const before = memoryKey || storedKey();
  try {
    if (key) sessionStorage.setItem(KEY_STORE, key);
    else sessionStorage.removeItem(KEY_STORE);
  } catch {
    // storage disabled: the key lives as long as the page
  }
  try {
    // Another login here replaced the cookie the remembered key went with; this tab's own end (a
    // logout, a refusal) ends it too. Another tab's login ending this one's leaves a newer device key be.
    const remembered = localStorage.getItem(DEVICE_KEY_STORE);
    if (key && remember) localStorage.setItem(DEVICE_KEY_STORE, key);
    else if (remembered !== null && (key !== null || remembered === before)) localStorage.removeItem(DEVICE_KEY_STORE);
  } catch {
    // storage disabled
  }
  memoryKey = key || null;
}

export const currentKey = () => memoryKey || storedKey();

/** Headers that authenticate a same-origin request (the browser adds the cookie). */
export function authHeaders() {
  const key = currentKey();
  return /** @type {Record<string, string>} */ (key ? { 'x-tether-session': key } : {});
}

// ---------- requests ----------

/**
 * A same-origin request with the session cookie and key. A 401 ends the web session; another
 * error status is an ApiError.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON
 * @param {{ headers?: Record<string, string>, signal?: AbortSignal, keepalive?: boolean }} [init]
 * @returns {Promise<Response>}
 */
async function request(method, path, body, init = {}) {
  /** @type {Record<string, string>} */
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
      // Outlives the page (a request sent as it closes).
      keepalive: init.keepalive,
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
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
  return res;
}

/**
 * A JSON request; resolves to the parsed answer (null for 204). The shapes are in types.d.ts.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {{ keepalive?: boolean }} [init]
 * @returns {Promise<any>}
 */
export async function api(method, path, body, init) {
  const res = await request(method, path, body, init);
  if (res.status === 204) return null;
  return res.json();
}

/**
 * A request answered with an event stream (read it with readJsonEvents in sse.js).
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {AbortSignal} signal
 */
export function apiStream(method, path, body, signal) {
  return request(method, path, body, { signal, headers: { accept: 'text/event-stream' } });
}
