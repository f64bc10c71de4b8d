// The domain's typed errors. The CLI maps them to an exit code, the server to a status and a
// JSON body `{ "error": { "code", "message" } }`. Messages say what was wrong and what is accepted.

export class TetherError extends Error {
  constructor(
    /** Stable machine-readable code, e.g. `bad_request`, `not_found`. */
    readonly code: string,
    message: string,
    /** HTTP status when this reaches the server's error handler. */
    readonly status: number,
    /** Process exit code when this reaches the CLI (0 ok, 1 failure, 2 usage). */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from a user or client: CLI exit 2, HTTP 400. */
export class UsageError extends TetherError {
  constructor(message: string, code = 'bad_request') {
    super(code, message, 400, 2);
  }
}

export class NotFoundError extends TetherError {
  constructor(message: string, code = 'not_found') {
    super(code, message, 404, 1);
  }
}

export class ConflictError extends TetherError {
  constructor(message: string, code = 'conflict') {
    super(code, message, 409, 1);
  }
}

/** A path or resource outside what the caller may reach (not a permission problem of the token). */
export class ForbiddenError extends TetherError {
  constructor(message: string, code = 'forbidden') {
    super(code, message, 403, 1);
  }
}

export class TooLargeError extends TetherError {
  constructor(message: string, code = 'too_large') {
    super(code, message, 413, 1);
  }
}

export class UnavailableError extends TetherError {
  constructor(message: string, code = 'unavailable') {
    super(code, message, 503, 1);
  }
}

/** A file we own (token store, credentials, config) that cannot be read or is invalid. */
export class StoreError extends TetherError {
  constructor(message: string, code = 'store_error') {
    super(code, message, 500, 1);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
