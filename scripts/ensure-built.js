// `npm start` helper: rebuild dist/ when it is missing or older than any source file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const entry = path.join(root, 'dist', 'cli', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (p === path.join(root, 'src', 'web')) continue; // served as is, not compiled
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(entry) ? fs.statSync(entry).mtimeMs : 0;
if (built === 0 || newestMtime(path.join(root, 'src')) > built) {
  process.stderr.write('tether: building (tsc)...\n');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
}
// The web UI's browser bundles (src/web/bundles -> dist/web).
const bundle = path.join(root, 'dist', 'web', 'editor.js');
const bundled = fs.existsSync(bundle) ? fs.statSync(bundle).mtimeMs : 0;
if (bundled === 0 || newestMtime(path.join(root, 'src', 'web', 'bundles')) > bundled) {
  process.stderr.write('tether: bundling the web UI libraries...\n');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'bundle-web.js')], { stdio: 'inherit' });
}
// The CLI bundles bin/tether.js runs (dist/cli -> dist/bundle), whenever tsc has written since (it
// rewrites every output, the entry included). serve.cjs is written after the chunks.
const cliBundle = path.join(root, 'dist', 'bundle', 'serve.cjs');
const cliBundled = fs.existsSync(cliBundle) ? fs.statSync(cliBundle).mtimeMs : 0;
if (cliBundled === 0 || fs.statSync(entry).mtimeMs > cliBundled) {
  process.stderr.write('tether: bundling the CLI...\n');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'bundle-cli.js')], { stdio: 'inherit' });
}
