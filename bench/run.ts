// `npm run bench`: every benchmark, one table. Ratios are measured within this one run.
import { printTable, type Row } from './lib.js';
import { benchCliStartup } from './cli-startup.js';
import { benchVerify } from './verify.js';
import { benchAuthInProcess, benchHttp } from './http.js';
import { benchPty } from './pty.js';

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
