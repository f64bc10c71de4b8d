// Per-connection memo of the Authorization header a connection last proved. Keep-alive clients (the
// CLI, the web UI, scripts) send the same header on every request; parsing and verifying it again
// each time (a regular expression, a SHA-256, objects) was most of what auth cost a request.
//
// A hit stands for exactly what parsing and verifying the header would answer, because it requires
// all of:
// - the same connection (a socket: a header proved on one connection never helps another);
// - the same Authorization header, character for character, compared in constant time (a proxy may
//   carry several clients' requests on one upstream connection: one must not learn another's token
//   from the comparison's timing). The header is the first credential source (credential-list.ts),
//   so when it is present it alone decides what the request presents, and the same text always
//   parses to the same token;
// - the same loaded version of the token file (any reload, a delete or an edit, misses every memo);
// - the token still unexpired now (checked on every hit).
// Anything else goes the full way. The memo holds, per connection, only a header that connection
// itself sent; it is dropped with the socket (WeakMap), and never keyed by the token.
import type { AuthInfo } from './middleware.js';
import type { TokenRecord } from './shapes.js';
import type { TokenIndex } from './verify.js';

/** What a connection's header proved, and what the guard made of it then: the request's auth
 * (frozen) and the client's address, both the same for every request on the connection. */
export interface Proved {
  readonly record: TokenRecord;
  readonly info: AuthInfo;
  readonly address: string;
}

interface Memo {
  index: TokenIndex;
  header: string;
  proved: Proved;
}

/** Constant-time for equal lengths (the header's length is public: the token format fixes it). */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class VerifyMemo {
  private readonly byConnection = new WeakMap<object, Memo>();

  /** What `header` proved on this connection, if it is still good under `index` at `now`.
   * `connection` undefined (an in-process request has no socket): never a hit. */
  lookup(connection: object | undefined, index: TokenIndex, header: string | undefined, now: number): Proved | undefined {
    if (connection === undefined || header === undefined) return undefined;
    const memo = this.byConnection.get(connection);
    if (memo === undefined || memo.index !== index || !sameSecret(memo.header, header) || !index.isActive(memo.proved.record.id, now)) return undefined;
    return memo.proved;
  }

  /** Remembers that `header` verified under `index` on this connection (a full verify's success). */
  remember(connection: object | undefined, index: TokenIndex, header: string, proved: Proved): void {
    if (connection !== undefined) this.byConnection.set(connection, { index, header, proved: Object.freeze({ ...proved }) });
  }
}
