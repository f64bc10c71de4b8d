// Per-connection memo of the token a connection last proved. Keep-alive clients (the CLI, the web
// UI, scripts) send the same token on every request, and hashing it again each time was most of
// what auth cost a request.
//
// A hit answers exactly what TokenIndex.verify would, because it requires all of:
// - the same connection (a socket: a token proved on one connection never helps another);
// - the same loaded version of the token file (any reload, a delete or an edit, misses every memo);
// - the same token string, compared in constant time (a proxy may carry several clients' requests
//   on one upstream connection: one must not learn another's token from the comparison's timing);
// - the token still unexpired now (checked on every hit).
// Anything else goes to verify. The memo holds, per connection, only a string that connection
// itself sent; it is dropped with the socket (WeakMap), and never keyed by the token.
import type { TokenRecord } from './shapes.js';
import type { TokenIndex, VerifyResult } from './verify.js';

interface Memo {
  index: TokenIndex;
  token: string;
  result: VerifyResult & { ok: true; record: TokenRecord };
}

/** Constant-time for equal lengths (token length is public: the format fixes it). */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class VerifyMemo {
  private readonly byConnection = new WeakMap<object, Memo>();

  /** `connection` undefined (an in-process request has no socket): a plain verify. */
  verify(index: TokenIndex, token: string, connection: object | undefined, now = Date.now()): VerifyResult {
    if (connection === undefined) return index.verify(token, now);
    const memo = this.byConnection.get(connection);
    if (memo !== undefined && memo.index === index && sameSecret(memo.token, token) && index.isActive(memo.result.record.id, now)) return memo.result;
    const result = index.verify(token, now);
    if (result.ok) this.byConnection.set(connection, { index, token, result: Object.freeze(result) });
    return result;
  }
}
