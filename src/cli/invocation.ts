// How to type a tether command here: every hint the CLI prints ("Reattach with: ...", "log in with
// ...") starts with this prefix, so the user can copy it and it runs, whichever way they started us:
//
//   npx tether-server ...      (npm exec of the published package, from npm's npx cache)
//   npx tether ...             (npm exec of a local checkout or dependency that provides the bin)
//   tether ...                 (a `tether` on PATH resolves to this very launcher: npm link, npm i -g)
//   node bin/tether.js ...     (anything else, `npm start` included: the launcher's path, relative to
//                               the user's directory when it lies below it)
//
// Only facts the process can check are used: the launcher's own path, PATH lookups, and the npm
// environment variables npm sets for `npm exec` / scripts (npm_command, INIT_CWD).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'tether-server';
export const BIN_NAME = 'tether';

export interface Invocation {
  /** process.argv[1]: the script node was started with (not resolved through symlinks). */
  script: string | undefined;
  env: NodeJS.ProcessEnv;
  execPath: string;
  cwd: string;
  /** This package's launcher, bin/tether.js. */
  launcher: string;
}

/** The launcher this module belongs to: dist/cli/invocation.js -> ../../bin/tether.js. */
export function ownLauncher(): string {
  return fileURLToPath(new URL('../../bin/tether.js', import.meta.url));
}

function realpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** The first executable `name` on PATH, as PATH lists it (not resolved). */
export function onPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir || !path.isAbsolute(dir)) continue; // a relative PATH entry depends on the cwd: not a stable hint
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Single-quotes a word for a POSIX shell when it needs it. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The words to type before a tether subcommand, e.g. `tether` or `npx tether-server`. */
export function commandPrefix(inv: Invocation): string {
  const launcher = realpath(inv.launcher) ?? inv.launcher;
  const script = inv.script ? path.resolve(inv.cwd, inv.script) : undefined;
  // The link npm makes for a package's bin: node_modules/.bin/tether.
  const viaBinLink =
    script !== undefined &&
    path.basename(script) === BIN_NAME &&
    path.basename(path.dirname(script)) === '.bin' &&
    path.basename(path.dirname(path.dirname(script))) === 'node_modules';
  // npm exec / npx run the package's bin link (node_modules/.bin/tether) with npm_command=exec.
  // From npm's own cache it was fetched by package name; otherwise it came from a local tree,
  // where `npx tether` finds it again.
  if (inv.env.npm_command === 'exec' && viaBinLink) {
    const real = realpath(script) ?? script;
    return real.split(path.sep).includes('_npx') ? `npx ${PACKAGE_NAME}` : `npx ${BIN_NAME}`;
  }
  const found = onPath(BIN_NAME, inv.env);
  if (found !== null && realpath(found) === launcher) return BIN_NAME;
  // `npm start` runs `node bin/tether.js serve` from the package root, while the user's shell is
  // in INIT_CWD: the path is given relative to where they typed the command.
  const userCwd = inv.env.npm_lifecycle_event && inv.env.INIT_CWD ? inv.env.INIT_CWD : inv.cwd;
  const file = script !== undefined && realpath(script) === launcher ? script : inv.launcher;
  const rel = path.relative(userCwd, file);
  const shown = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  const node = onPath('node', inv.env);
  const nodeWord = node !== null && realpath(node) === (realpath(inv.execPath) ?? inv.execPath) ? 'node' : inv.execPath;
  return `${shellWord(nodeWord)} ${shellWord(shown)}`;
}

let cached: string | undefined;

/** The prefix for this process (computed once). */
export function tetherPrefix(): string {
  cached ??= commandPrefix({ script: process.argv[1], env: process.env, execPath: process.execPath, cwd: process.cwd(), launcher: ownLauncher() });
  return cached;
}

/** A full command to print in a hint: `tetherCommand('attach --pty X')` -> `tether attach --pty X`. */
export function tetherCommand(rest: string): string {
  return `${tetherPrefix()} ${rest}`;
}
