import os from 'node:os';
import path from 'node:path';

// XDG base directories. Tests point XDG_CONFIG_HOME / XDG_DATA_HOME (and HOME, hence the default
// XDG_STATE_HOME) at temp dirs.
function xdg(envName: string, fallback: string[]): string {
  const v = process.env[envName];
  // The spec says relative values are invalid and must be ignored.
  if (v && path.isAbsolute(v)) return v;
  return path.join(os.homedir(), ...fallback);
}

export function configDir(): string {
  return path.join(xdg('XDG_CONFIG_HOME', ['.config']), 'tether');
}

export function dataDir(): string {
  return path.join(xdg('XDG_DATA_HOME', ['.local', 'share']), 'tether');
}

export function stateDir(): string {
  return path.join(xdg('XDG_STATE_HOME', ['.local', 'state']), 'tether');
}
