// How the CLI spells its own commands in hints when the tests run it: `node bin/tether.js` from this
// checkout, unless a `tether` on PATH is this very launcher (see src/cli/invocation.ts).
import { commandPrefix } from '../../src/cli/invocation.js';
import { BIN } from './cli.js';

export function hintPrefix(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return commandPrefix({ script: BIN, env, execPath: process.execPath, cwd, launcher: BIN });
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
