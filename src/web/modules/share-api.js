// @ts-check
// The share page's credential and requests. The token comes in the link's fragment, which the
// browser never sends to a server, logs or puts in a Referer; the page erases it from the address
// bar and this history entry at once, and keeps it only in this tab's sessionStorage (so a reload
// still works) until the server says it is revoked or expired. It goes to this server only: as a
// Bearer header (never a cookie: the page sends none) and in the WebSocket subprotocol offer.
import { SseParser } from './sse.js';

const STORE = 'tether.share';
const TOKEN_SHAPE = /^tether_[0-9A-Za-z]{28}$/;

/**
 * The token of this tab's share link: from the fragment (then erased), else the one kept from
 * before a reload. `fromLink` says which; `malformed` that the fragment held something else.
 * @returns {{ token: string | null, fromLink: boolean, malformed: boolean }}
 */
export function takeToken() {
  const hash = location.hash.slice(1);
  if (hash !== '') {
    history.replaceState(null, '', location.pathname + location.search);
    if (TOKEN_SHAPE.test(hash)) return { token: hash, fromLink: true, malformed: false };
    return { token: null, fromLink: true, malformed: true };
  }
  try {
    const kept = sessionStorage.getItem(STORE);
    return { token: kept && TOKEN_SHAPE.test(kept) ? kept : null, fromLink: false, malformed: false };
  } catch {
    return { token: null, fromLink: false, malformed: false };
  }
}

/** Keeps (a string) or forgets (null) the token for this tab. */
export function keepToken(/** @type {string | null} */ token) {
  try {
    if (token) sessionStorage.setItem(STORE, token);
    else sessionStorage.removeItem(STORE);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

/** A GET with the share token. */
export function shareGet(/** @type {string} */ token, /** @type {string} */ path, /** @type {AbortSignal | undefined} */ signal = undefined) {
  return fetch(path, {
    headers: { authorization: `Bearer ${token}`, accept: path === '/event' ? 'text/event-stream' : 'application/json' },
    credentials: 'omit',
    cache: 'no-store',
    signal,
  });
}

/** The JSON of a GET; throws an Error carrying the status and the server's error code. */
export async function shareJson(/** @type {string} */ token, /** @type {string} */ path) {
  const res = await shareGet(token, path);
  if (!res.ok) {
    /** @type {{ error?: { code?: string, message?: string } }} */
    let body = {};
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    throw Object.assign(new Error(body.error?.message || `${res.status}`), { status: res.status, code: body.error?.code || `http_${res.status}` });
  }
  return res.json();
}

/**
 * Reads GET /event (only this token's target's events reach it) until it ends or `signal` aborts.
 * @param {string} token
 * @param {(type: string, properties: EventProps) => void} onEvent
 * @param {AbortSignal} signal
 */
export async function readShareEvents(token, onEvent, signal) {
  const res = await shareGet(token, '/event', signal);
  if (!res.ok || !res.body) throw Object.assign(new Error(`event stream: ${res.status}`), { status: res.status });
  const parser = new SseParser((e) => {
    try {
      const data = JSON.parse(e.data);
      if (data && typeof data.type === 'string') onEvent(data.type, data.properties || {});
    } catch {
      // not an event of ours
    }
  });
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parser.push(value);
  }
  parser.end();
}

/** The WebSocket URL of a terminal, view only. */
export function viewSocketUrl(/** @type {string} */ id) {
  const url = new URL(`/pty/${encodeURIComponent(id)}/connect?view=1`, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url;
}
