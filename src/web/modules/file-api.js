// @ts-check
// Reading and writing one project file with its version (the ETag): GET /file/content answers it in
// a header, PUT /file/content sends it back in If-Match, and a 412 says which version is on disk
// now. api.js's helper returns bodies only, so these requests are made here, the same way (cookie +
// session key; a 401 ends the web session).
import { ApiError, SessionEnded, authHeaders, endSession, errorOf, sessionEndedMessage } from './api.js';

/** A write refused because the file is no longer the version it was based on. */
export class FileConflict extends Error {
  /** @param {string} message @param {string | null} currentEtag null: the file is gone */
  constructor(message, currentEtag) {
    super(message);
    this.currentEtag = currentEtag;
  }
}

/** Requests are at most this large (the server's limit is 2 MiB); bigger text goes as base64. */
const JSON_TEXT_MAX = 1900 * 1024;

/**
 * @param {string} method
 * @param {string} path
 * @param {Record<string, string>} headers
 * @param {unknown} [body]
 */
async function send(method, path, headers, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { accept: 'application/json', ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'cannot reach the tether server');
  }
  if (res.status === 401) {
    const e = await errorOf(res);
    endSession(sessionEndedMessage(e));
    throw new SessionEnded(e.message);
  }
  return res;
}

const fileUrl = (/** @type {string} */ path) => `/file/content?path=${encodeURIComponent(path)}`;

/**
 * A file's content and version.
 * @param {string} path
 * @returns {Promise<{ file: FileContent, etag: string | null }>}
 */
export async function readFile(path) {
  const res = await send('GET', fileUrl(path), {});
  if (!res.ok) {
    const e = await errorOf(res);
    throw new ApiError(res.status, e.code, e.message);
  }
  return { file: /** @type {FileContent} */ (await res.json()), etag: res.headers.get('etag') };
}

/** UTF-8 bytes as base64, in slices (String.fromCharCode takes a bounded number of arguments). */
function base64Of(/** @type {string} */ text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/**
 * Saves `text` if the file is still version `etag` (null: only if it does not exist).
 * Resolves to the new version; a conflict is a FileConflict, anything else an ApiError.
 * @param {string} path
 * @param {string} text
 * @param {string | null} etag
 * @returns {Promise<string>}
 */
export async function writeFile(path, text, etag) {
  // JSON escapes can make text longer than its bytes (quotes, backslashes, control characters).
  const asText = JSON.stringify(text).length <= JSON_TEXT_MAX;
  const body = asText ? { content: text, encoding: 'utf8' } : { content: base64Of(text), encoding: 'base64' };
  const res = await send('PUT', fileUrl(path), etag === null ? { 'if-none-match': '*' } : { 'if-match': etag }, body);
  if (res.status === 412) {
    /** @type {{ error?: { message?: string, currentEtag?: string | null } }} */
    const b = await res.json().catch(() => ({}));
    throw new FileConflict(b.error?.message ?? 'the file changed on disk', b.error?.currentEtag ?? null);
  }
  if (!res.ok) {
    const e = await errorOf(res);
    throw new ApiError(res.status, e.code, e.message);
  }
  /** @type {{ etag: string }} */
  const written = await res.json();
  return written.etag;
}
