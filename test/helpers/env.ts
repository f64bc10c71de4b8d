import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TempEnv {
  root: string;
  configHome: string;
  dataHome: string;
  stateHome: string;
  /** $XDG_STATE_HOME/tether: the audit log's directory. */
  auditDir: string;
  tokenFile: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** The environment for processes under test: private HOME and XDG dirs, no colour, no client defaults. */
export function isolatedEnv(home: string, configHome: string, dataHome: string, stateHome = path.join(home, '.local', 'state')): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // A private HOME too: shells started by the tests must not run the real user's rc files.
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
    XDG_STATE_HOME: stateHome,
    NO_COLOR: '1',
    TETHER_URL: '',
    TETHER_TOKEN: '',
  };
}

/** Private XDG config/data/state dirs for one test, so nothing touches the real home. */
export function tempEnv(prefix = 'tether-test-'): TempEnv {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const configHome = path.join(root, 'config');
  const dataHome = path.join(root, 'data');
  fs.mkdirSync(configHome);
  fs.mkdirSync(dataHome);
  // Where the default would be under this HOME (tests of reserved paths rely on that).
  const stateHome = path.join(root, '.local', 'state');
  const env = isolatedEnv(root, configHome, dataHome, stateHome);
  return {
    root,
    configHome,
    dataHome,
    stateHome,
    auditDir: path.join(stateHome, 'tether'),
    tokenFile: path.join(configHome, 'tether', 'auth-tokens.json'),
    env,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
