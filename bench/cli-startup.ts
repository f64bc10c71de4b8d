// `tether auth token list` wall time as a ratio to `node -e 0`, interleaved in one run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timeCommand, type Row } from './lib.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'tether.js');

export function benchCliStartup(runs = 30): Row[] {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-'));
  const env = { ...process.env, XDG_CONFIG_HOME: home, NO_COLOR: '1' };
  timeCommand(process.execPath, [BIN, 'auth', 'token', 'create', '--name', 'bench', '--json'], env);
  const base: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < 3; i++) {
    timeCommand(process.execPath, ['-e', '0'], env);
    timeCommand(process.execPath, [BIN, 'auth', 'token', 'list'], env);
  }
  for (let i = 0; i < runs; i++) {
    base.push(timeCommand(process.execPath, ['-e', '0'], env));
    cli.push(timeCommand(process.execPath, [BIN, 'auth', 'token', 'list'], env));
  }
  fs.rmSync(home, { recursive: true, force: true });
  const ratio = median(cli) / median(base);
  return [
    { group: 'cli', metric: '`node -e 0` median', value: `${median(base).toFixed(1)} ms` },
    { group: 'cli', metric: '`tether auth token list` median', value: `${median(cli).toFixed(1)} ms` },
    { group: 'cli', metric: 'start-up ratio (list / node -e 0)', value: ratio.toFixed(2), target: '<= 2.0', ok: ratio <= 2.0 },
  ];
}
