// The one resolver from a request to where it may go: the token's scopes (put in the context by the
// guard, src/auth/middleware.ts) as a Place (src/auth/scope.ts decides), and what the routes build
// from it. Every route that touches a file, a terminal or a session gets its Place or Root here.
import fs from 'node:fs/promises';
import type { Context } from 'hono';
import { defaultDirectories, placeFor } from '../auth/scope.js';
import type { Root } from '../fs/confine.js';
import { outsideScope, type Place } from '../fs/place.js';
import type { ServerContext } from './context.js';

/** The caller's Place; undefined for an unscoped token (and --no-auth). */
export function placeOf(c: Context): Place | undefined {
  return placeFor(c.get('auth').scopes);
}

/**
 * The project as a file root for this request: every file route (list, read, write, delete) and
 * both searches take their Root from here, so a scoped token's paths are confined by src/fs
 * (`locate`, `verifyHandle`, the walk) like the project itself. Never build a Root of the project
 * any other way in a route.
 */
export function fileRoot(c: Context, ctx: ServerContext): Root {
  const place = placeOf(c);
  return { real: ctx.projectDir, reserved: ctx.reserved, ...(place && { place }) };
}

/**
 * The directory a new terminal or session starts in when the caller names none: for an unscoped
 * caller, none (the domain's default, the project); for a scoped one, the project if it lies inside
 * a scope, else the first scope inside the project that is still that very directory (not gone, not
 * replaced by a symlink). None left: 403 outside_scope naming the scopes.
 */
export async function startDirectory(c: Context, ctx: ServerContext, given: string | undefined): Promise<string | undefined> {
  const place = placeOf(c);
  if (given !== undefined || place === undefined) return given;
  for (const dir of defaultDirectories(place.scopes, ctx.projectDir)) {
    const real = await fs.realpath(dir).catch(() => null);
    const st = real === dir ? await fs.stat(dir).catch(() => null) : null;
    if (st?.isDirectory()) return dir;
  }
  throw outsideScope('no directory was given, and the default', place, 'is');
}
