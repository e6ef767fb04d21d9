#!/usr/bin/env bash
# `npm test`: brings what the suite needs and is missing (Node 24 from the
# npm registry into .tools/, Debian packages with apt-get), then runs the
# generated-code check, lint and type checks, the build and the whole vitest
# suite under Node 24. Arguments go to vitest (`npm test -- test/core`).
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=$(bash scripts/install-node.sh 24)
export PATH="$node_bin:$PATH"
bash scripts/install-system-packages.sh
npm run check
npm run build
exec npx vitest run "$@"
