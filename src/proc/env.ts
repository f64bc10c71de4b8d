// The environment of every program the server starts: terminals, agent sessions' shell commands
// and the agent's commands all get it from childEnv(), so they cannot drift apart.
//
// What is removed: every `TETHER_*` variable of the server. That prefix is where tether reads its
// own configuration and secrets from (TETHER_MODEL_API_KEY, TETHER_TOKEN, TETHER_URL, ...), and
// none of it is meant for the programs it runs. Nothing else is removed: the user's own variables
// (PATH, HOME, SSH_AUTH_SOCK, cloud credentials) are what their terminal and their builds need,
// and a program with execute can read anything the user can anyway, including this server's
// initial environment in /proc/<server pid>/environ. So this is hygiene (no `env` or crash dump
// prints the model key by accident), not a boundary; the settings file is the place for the key.
//
// What is added: TETHER_INSTANCE, a random id of this server process. It is not secret; it lets a
// later server recognise this one's leftovers after a crash (see reap.ts). It is set last, so a
// caller cannot override it. A caller's own additions may use any name, TETHER_* included: they
// carry the caller's values (e.g. TETHER_TOKEN for running `tether` inside a terminal), never the
// server's.

import { randomBytes } from 'node:crypto';

/** The prefix of the server's own variables. */
export const SERVER_PREFIX = 'TETHER_';
/** Set in every child to this server process's {@link INSTANCE_ID}. */
export const INSTANCE_VAR = 'TETHER_INSTANCE';
/** 128 random bits, one per server process. */
export const INSTANCE_ID = randomBytes(16).toString('hex');

export interface ChildEnvOptions {
  /** What to start from; default the server's environment. Its TETHER_* variables are dropped. */
  base?: NodeJS.ProcessEnv;
  /** Further names to drop from `base` (e.g. those describing the server's own terminal). */
  omit?: readonly string[];
  /** Added after the scrub, overriding `base` (not INSTANCE_VAR). */
  add?: Readonly<Record<string, string>>;
}

export function childEnv(options: ChildEnvOptions = {}): Record<string, string> {
  const omit = new Set(options.omit ?? []);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.base ?? process.env)) {
    if (v !== undefined && !k.startsWith(SERVER_PREFIX) && !omit.has(k)) env[k] = v;
  }
  Object.assign(env, options.add);
  env[INSTANCE_VAR] = INSTANCE_ID;
  return env;
}
