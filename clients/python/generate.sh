#!/usr/bin/env bash
# Generates the Python messages and gRPC stubs of sessiond from the
# repository's proto/ into src/sessiond/v1/ (or into the directory given as
# the first argument). PYTHON picks the interpreter (default python3).
# `pip install ./clients/python` runs it when the stubs are missing.
#
# The usual generator is grpcio-tools (`python -m grpc_tools.protoc`). The
# API uses proto3 `optional` fields (protoc 3.15+) and type stubs are written
# too (.pyi, protoc 3.20+); when the installed grpcio-tools bundles an older
# protoc (Debian 12's python3-grpc-tools has 3.5), the system's protoc with
# grpc_python_plugin (Debian: protobuf-compiler, protobuf-compiler-grpc)
# generates the same files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../proto" && pwd)
out=${1:-"$here/src"}
python=${PYTHON:-python3}

# Prints the protoc version as a comparable number, e.g. 3.21.12 -> 321012.
version_number() { sed -E 's/^libprotoc ([0-9]+)\.([0-9]+)\.?([0-9]*).*/\1 \2 \3/' | awk '{ printf "%d", $1 * 100000 + $2 * 1000 + $3 }'; }

mkdir -p "$out/sessiond/v1"
find "$out/sessiond/v1" -name '*_pb2*' -delete
bundled=$("$python" -m grpc_tools.protoc --version 2>/dev/null | version_number || true)
if [ -n "$bundled" ] && [ "$bundled" -ge 320000 ]; then
  echo "generating with grpcio-tools ($("$python" -m grpc_tools.protoc --version))"
  # `python -m grpc_tools.protoc` adds the well-known types (google/protobuf/*.proto) to the include path.
  "$python" -m grpc_tools.protoc -I "$proto" \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    "$proto"/sessiond/v1/*.proto
elif command -v protoc >/dev/null && command -v grpc_python_plugin >/dev/null; then
  echo "generating with $(protoc --version) and grpc_python_plugin (grpcio-tools missing or older than protoc 3.20)"
  # The well-known types come from grpcio-tools when present, else from the protobuf headers package.
  wkt=$("$python" -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))' 2>/dev/null || echo /usr/include)
  protoc -I "$proto" -I "$wkt" \
    --python_out="$out" --pyi_out="$out" \
    --plugin=protoc-gen-grpc_python="$(command -v grpc_python_plugin)" --grpc_python_out="$out" \
    "$proto"/sessiond/v1/*.proto
else
  echo "no usable generator: install grpcio-tools (protoc >= 3.20), or protoc with grpc_python_plugin" >&2
  exit 1
fi
[ -f "$out/sessiond/v1/__init__.py" ] || echo '"""Generated messages and stubs of sessiond.v1."""' > "$out/sessiond/v1/__init__.py"
echo "generated $(find "$out/sessiond/v1" -name '*_pb2*.py' | wc -l) modules in $out/sessiond/v1"
