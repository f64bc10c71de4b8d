import net from 'node:net';

// Failing fast when the model server cannot be reached. The AI SDK retries a request that could not
// connect (twice, with 2 s and 4 s of backoff) and Node's fetch waits 10 s for a connection: a
// stopped or mistyped model server cost seconds before one error. This fetch, given to the
// provider, turns a failure to *connect* (refused, no such host, unreachable, TLS refused, no
// answer within `connectTimeoutMs`) into an error the SDK does not retry. Failures after a
// connection was made (a reset stream, 429, 5xx) stay as they were, and are retried as before.
//
// The connect timeout comes from a probe: a plain TCP connection to the same host and port, opened
// alongside the request. Node's fetch has no connect timeout of its own short of a custom
// dispatcher (the undici package), and a whole-request timeout would cut off a model that takes
// long to start answering.

export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** The model server could not be connected to. Carries no `cause`: the SDK would retry on its code. */
export class ModelUnreachableError extends Error {
  override readonly name = 'ModelUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the model at ${url}: ${reason}`);
  }
}

/** Resolves null once `url`'s host accepts a TCP connection, or with why it did not. */
export type Probe = (url: URL, timeoutMs: number, signal: AbortSignal) => Promise<string | null>;

export interface FastFailOptions {
  connectTimeoutMs?: number;
  /** Tests inject these. */
  probe?: Probe;
  fetch?: typeof fetch;
}

/** Errors of establishing a connection: retrying at once will not help. */
const CONNECT_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the model server running?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  UND_ERR_CONNECT_TIMEOUT: 'no answer to the connection attempt',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another name',
  EPROTO: 'the TLS handshake failed (is it http rather than https?)',
};

/** The connect failure behind `err` (walking its causes), in words, if it is one. */
export function connectFailure(err: unknown): string | null {
  const seen = new Set<unknown>();
  for (let e = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && Object.hasOwn(CONNECT_CODES, code)) return CONNECT_CODES[code]!;
  }
  return null;
}

export const tcpProbe: Probe = (url, timeoutMs, signal) =>
  new Promise((resolve) => {
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = net.connect({ host, port });
    const finish = (why: string | null) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(why);
    };
    const onAbort = () => finish(null);
    const timer = setTimeout(() => finish(`no answer within ${Math.round(timeoutMs / 100) / 10} s`), timeoutMs);
    socket.once('connect', () => finish(null));
    socket.once('error', (err) => finish(connectFailure(err) ?? err.message));
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** A fetch for the provider that fails at once, and only once, when the model server cannot be reached. */
export function fastFailFetch(options: FastFailOptions = {}): typeof fetch {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const probe = options.probe ?? tcpProbe;
  const base = options.fetch ?? globalThis.fetch;
  // Once the model server has answered, it is known to be reachable: the later steps of a run skip
  // the probe (it would open one more connection per request); their connect errors are still named.
  let reachedOnce = false;
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const where = `${url.protocol}//${url.host}`;
    const unreachable = new AbortController();
    const probeDone = new AbortController();
    let answered = false;
    let why: string | null = null;
    const probed = (reachedOnce ? Promise.resolve(null) : probe(url, timeoutMs, probeDone.signal)).then(
      (reason) => {
        if (reason && !answered) {
          why = reason;
          unreachable.abort();
        }
      },
      () => {},
    );
    const outer = init?.signal;
    const signal = outer ? AbortSignal.any([outer, unreachable.signal]) : unreachable.signal;
    try {
      const res = await base(input, { ...init, signal });
      answered = true;
      reachedOnce = true;
      return res;
    } catch (err) {
      if (outer?.aborted) throw err;
      // The probe's verdict says whether the request failed for want of a connection (it is what
      // stopped the request when `why` is set already; otherwise it settles soon, since the request
      // could not connect either, or has connected).
      if (why === null && connectFailure(err) === null) await probed;
      const reason = why ?? connectFailure(err);
      if (reason) throw new ModelUnreachableError(where, reason);
      throw err;
    } finally {
      probeDone.abort();
    }
  };
}
