// `npm run bench`: every benchmark, one table. Ratios are measured within this one run.
import { printTable, type Row } from './lib.js';
import { benchCliStartup } from './cli-startup.js';
import { benchVerify } from './verify.js';
import { benchAuthInProcess, benchHttp } from './http.js';
import { benchPty } from './pty.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Servers started in this process (in-process benches) write their audit log, web logins and
// data under the XDG directories: a throwaway home, never the user's.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-bench-home-'));
for (const [k, d] of [
  ['XDG_CONFIG_HOME', 'config'],
  ['XDG_DATA_HOME', 'data'],
  ['XDG_STATE_HOME', 'state'],
] as const)
  process.env[k] = path.join(home, d);
process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));

const only = process.argv.slice(2);
const suites: [string, () => Row[] | Promise<Row[]>][] = [
  ['cli', benchCliStartup],
  ['verify', benchVerify],
  ['http', benchHttp],
  ['auth', benchAuthInProcess],
  ['pty', benchPty],
];

const rows: Row[] = [];
for (const [name, fn] of suites) {
  if (only.length && !only.includes(name)) continue;
  process.stderr.write(`bench: ${name}...\n`);
  rows.push(...(await fn()));
}
printTable(rows);
