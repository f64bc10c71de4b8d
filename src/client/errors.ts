// Errors the client raises: they carry the server's status, code and message.

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
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach tether at ${url}: ${cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)}`);
    this.name = 'ConnectionError';
  }
}

/** One clear line for a refused request, with what to do about it. */
export function explainApiError(err: ApiError, url: string): string {
  if (err.status === 401) {
    const why =
      err.code === 'missing_token'
        ? 'no token was sent'
        : err.code === 'expired_token'
          ? 'the token has expired'
          : err.code === 'unknown_token'
            ? 'the token was revoked or is not known to this server'
            : 'the token was refused';
    return `${why} (${url}); create one with \`tether auth token create\` on the server and log in with \`tether auth login ${url}\``;
  }
  if (err.status === 403 && err.code === 'insufficient_permissions') {
    const lacks = /lacks ([a-z]+(?: and [a-z]+)*) permission/.exec(err.message)?.[1];
    const suggest = /--permissions ([a-z,]+)/.exec(err.message)?.[1] ?? 'read,write,execute';
    return `this token lacks ${lacks ?? 'a needed permission'}; create one with \`tether auth token create --permissions ${suggest}\` and log in with \`tether auth login ${url}\``;
  }
  if (err.status === 429) return `too many failed attempts; retry in ${err.retryAfter ?? 60} s`;
  return `${err.message} (${err.status} ${err.code})`;
}
