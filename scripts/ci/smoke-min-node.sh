#!/usr/bin/env bash
# Installs the oldest Node the package declares (engines.node, e.g. ">=22.13"
# → 22.13.0) from the npm registry and runs the smoke test on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
minimum=$(node -p 'require("./package.json").engines.node.replace(/^>=/, "")')
[[ $minimum == *.*.* ]] || minimum="$minimum.0"
node_bin=$(bash scripts/install-node.sh "$minimum")
"$node_bin/node" scripts/ci/smoke-min-node.mjs
