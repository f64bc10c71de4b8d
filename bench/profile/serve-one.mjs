// Profiling harness (callgrind / --cpu-prof): one server in this process (bare | noauth | auth),
// a client in a child process (not profiled) sending WARM then N keep-alive GET /auth/whoami.
// Under callgrind, instrumentation is switched on (callgrind_control -i on) only for the N.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [mode = 'auth', nArg = '2000', warmArg = '3000'] = process.argv.slice(2);
const N = Number(nArg);
const WARM = Number(warmArg);
const CALLGRIND = process.env.CALLGRIND === '1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-prof-'));
process.env.XDG_CONFIG_HOME = path.join(home, 'config');
process.env.XDG_DATA_HOME = path.join(home, 'data');
process.env.XDG_STATE_HOME = path.join(home, 'state');

let url;
let close;
let token = '';
if (mode === 'bare') {
  const body = process.env.BODY ?? '{"x":1}';
  const head = JSON.parse(process.env.HEAD ?? '{"content-type":"application/json"}');
  const s = http.createServer((q, r) => {
    r.writeHead(200, head);
    r.end(body);
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${s.address().port}`;
  close = () =>
    new Promise((r) => {
      s.close(r);
      s.closeAllConnections();
    });
} else {
  const { startServer } = await import(path.join(root, 'dist/server/server.js'));
  const { createToken } = await import(path.join(root, 'dist/auth/token-admin.js'));
  const file = path.join(home, 'tokens.json');
  token = (await createToken({ permissions: ['read'], expiresAt: null }, file)).token;
  // PRODUCTION=1: the routes `tether serve` registers too (terminals, sessions, MCP, web UI).
  const registrars = process.env.PRODUCTION ? await (await import(path.join(root, 'dist/server/routes/index.js'))).productionRegistrars() : undefined;
  const srv = await startServer({
    registrars,
    port: 0,
    hostname: '127.0.0.1',
    projectDir: home,
    tokenFile: file,
    auth: mode === 'auth',
    log: { log() {}, stop() {} },
    settingsFile: path.join(home, 'config.json'),
  });
  url = srv.url;
  close = () => srv.close();
}

const CLIENT = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const [url, token, n] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const headers = token ? { authorization: 'Bearer ' + token } : {};
let left = n, bytes = 0;
function one() {
  if (left-- === 0) { console.log(bytes); agent.destroy(); return; }
  http.get(url + '/auth/whoami', { agent, headers }, (r) => { r.on('data', (d) => bytes += d.length); r.on('end', one); });
}
one();`;
function runClient(n) {
  if (process.env.AUTOCANNON) {
    // Many connections, like the bench: `n` is seconds here.
    const args = [path.join(root, 'node_modules/autocannon/autocannon.js'), '-c', '32', '-d', String(Math.max(1, Math.round(n / 1000))), '-j'];
    if (token) args.push('-H', 'authorization=Bearer ' + token);
    args.push(url + '/auth/whoami');
    return new Promise((resolve) => {
      const c = process.env.CLIENT_CPU
        ? spawn('taskset', ['-c', process.env.CLIENT_CPU, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'ignore'] })
        : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => resolve(-JSON.parse(out).requests.total));
    });
  }
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', CLIENT, url, token, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error('client exited ' + code))));
  });
}
function control(...args) {
  return new Promise((resolve) => spawn('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' }).on('exit', resolve));
}

await runClient(WARM);
if (process.env.PRINT_SAMPLE) {
  const r = await fetch(url + '/auth/whoami', { headers: token ? { authorization: 'Bearer ' + token } : {} });
  const head = {};
  r.headers.forEach((v, k) => {
    if (!['date', 'connection', 'keep-alive', 'content-length'].includes(k)) head[k] = v;
  });
  console.log(JSON.stringify({ head, body: await r.text() }));
}
if (CALLGRIND) {
  await control('-z');
  await control('-i', 'on');
}
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const bytes = await runClient(N);
// With autocannon the client reports its request count (negative, to tell it from bytes).
const count = bytes < 0 ? -bytes : N;
const us = Number(process.hrtime.bigint() - t0) / 1e3 / count;
const cpu = process.cpuUsage(cpu0);
if (CALLGRIND) {
  await control('-d');
  await control('-i', 'off');
}
console.error(
  `${mode}: ${Math.round(count)} requests, ${us.toFixed(1)} us/req wall, server CPU ${((cpu.user + cpu.system) / count).toFixed(1)} us/req (user ${(cpu.user / count).toFixed(1)})`,
);
await close();
fs.rmSync(home, { recursive: true, force: true });
process.exit(0);
