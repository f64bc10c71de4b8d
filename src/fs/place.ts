import { ForbiddenError } from '../errors.js';

// Where a caller may go: the directories a scoped token is confined to. The decision itself is made
// in one place, src/auth/scope.ts (pure string functions on real paths); this interface is how the
// file confinement (confine.ts, io.ts, walk.ts), the terminal and session domains and the agent's
// tools ask it, without src/fs depending on src/auth. Absent (undefined): the caller is unscoped.

export interface Place {
  /** The scopes, as stored (absolute real paths): for messages. */
  readonly scopes: readonly string[];
  /** The real path is one of the scopes or lies inside one. */
  contains(real: string): boolean;
  /** The real path is a directory on the way to a scope (one of its ancestors, or the scope itself):
   * it may be listed, showing only the way. */
  leadsTo(real: string): boolean;
}

/** 403 `outside_scope`: what was asked for lies outside every scope of the caller's token. */
export function outsideScope(what: string, place: Place, how = 'is'): ForbiddenError {
  return new ForbiddenError(`${what} ${how} outside this token's scopes (${place.scopes.join(', ')})`, 'outside_scope');
}
