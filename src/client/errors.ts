// Errors the client raises: they carry the server's status, code and message.

/** How a caller spells a tether command in a hint (the CLI passes the way it was itself invoked). */
export type CommandHint = (rest: string) => string;
const plainTether: CommandHint = (rest) => `tether ${rest}`;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached at all. */
export class ConnectionError extends Error {
  /** The system or TLS error code behind it (e.g. ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT). */
  readonly code: string | undefined;
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    // fetch wraps the system or TLS error in a TypeError('fetch failed') as its cause.
    const inner: NodeJS.ErrnoException | undefined = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause : cause) : undefined;
    super(`cannot reach tether at ${url}: ${inner ? inner.message : String(cause)}`);
    this.name = 'ConnectionError';
    this.code = typeof inner?.code === 'string' ? inner.code : undefined;
  }
}

/** What to do about a TLS certificate the client refused, by OpenSSL/Node error code. */
export function certificateAdvice(code: string | undefined): string | null {
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return "the server's certificate is not signed by a CA this client trusts; pass --ca-file FILE (or set TETHER_CA_FILE) with the CA certificate (for a self-signed server: its certificate)";
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return "the server's certificate is not valid for this host name; use a name or address the certificate lists";
    case 'CERT_HAS_EXPIRED':
      return "the server's certificate has expired";
    case 'CERT_NOT_YET_VALID':
      return "the server's certificate is not valid yet (check the clocks)";
    default:
      return null;
  }
}

/** A 3xx answer. Never followed: the token, commands and prompts would go to wherever it points. */
export class RedirectError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly location: string | null,
  ) {
    const where = location === null ? 'with no Location' : `to ${location.length > 200 ? `${location.slice(0, 200)}...` : location}`;
    super(
      `${url} answered ${status}, redirecting ${where}; tether clients never follow redirects (the token, commands and prompts would go there too): ` +
        'give the address of the tether server itself',
    );
    this.name = 'RedirectError';
  }
}

/** A 2xx answer that is not what a tether server sends: not JSON, a wrong shape, a broken stream. */
export class ProtocolError extends Error {
  constructor(
    readonly url: string,
    what: string,
    detail: string,
  ) {
    super(`unexpected response from ${url} to ${what}: ${detail} (is this a tether server of a matching version?)`);
    this.name = 'ProtocolError';
  }
}

/** Plain http to a host other than this machine, without the user's opt-in. */
export class PlainHttpError extends Error {
  constructor(readonly url: string) {
    super(plainHttpRefusal(url));
    this.name = 'PlainHttpError';
  }
}

export function plainHttpRefusal(url: string, cmd: CommandHint = plainTether): string {
  return (
    `refusing to send the token over plain HTTP to ${url}: anyone on the network path could read it (and the commands and replies). ` +
    `Use https://, or pass --allow-http if this network is trusted (\`${cmd('auth login --allow-http')}\` saves that choice)`
  );
}

/** One clear line for a refused request, with what to do about it. */
export function explainApiError(err: ApiError, url: string, cmd: CommandHint = plainTether): string {
  if (err.status === 401) {
    const why =
      err.code === 'missing_token'
        ? 'no token was sent'
        : err.code === 'expired_token'
          ? 'the token has expired'
          : err.code === 'unknown_token'
            ? 'the token was revoked or is not known to this server'
            : 'the token was refused';
    return `${why} (${url}); create one with \`${cmd('auth token create')}\` on the server and log in with \`${cmd(`auth login ${url}`)}\``;
  }
  if (err.status === 403 && err.code === 'insufficient_permissions') {
    const lacks = /lacks ([a-z]+(?: and [a-z]+)*) permission/.exec(err.message)?.[1];
    const suggest = /--permissions ([a-z,]+)/.exec(err.message)?.[1] ?? 'read,write,execute';
    return `this token lacks ${lacks ?? 'a needed permission'}; create one with \`${cmd(`auth token create --permissions ${suggest}`)}\` and log in with \`${cmd(`auth login ${url}`)}\``;
  }
  if (err.status === 429) return `too many failed attempts; retry in ${err.retryAfter ?? 60} s`;
  return `${err.message} (${err.status} ${err.code})`;
}
