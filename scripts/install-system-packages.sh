#!/usr/bin/env bash
# Installs the Debian packages the client and UI tests need when they are
# missing: Chromium (headless browser for the /ui test), Python's gRPC
# runtime, pip and generators for the Python client package, Go with gRPC,
# protobuf and their generators for the Go client. Debian 12's
# python3-grpc-tools bundles protoc 3.5, too old for proto3 `optional`, so
# protoc and grpc_python_plugin come along for clients/python/generate.sh.
# Installs only as root with apt-get; otherwise it stops at once, printing
# the command to run. Runs apt-get update at most once, and not at all when
# everything is present.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || missing+=(python3-grpcio)
/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)
/usr/bin/python3 -c 'import grpc_tools.protoc' >/dev/null 2>&1 || missing+=(python3-grpc-tools)
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v grpc_python_plugin >/dev/null || missing+=(protobuf-compiler-grpc)
/usr/bin/python3 -c 'import setuptools, pip, venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-setuptools python3-pip python3-venv)
[ -x /usr/bin/go ] || missing+=(golang-go)
[ -d /usr/share/gocode/src/google.golang.org/grpc ] || missing+=(golang-google-grpc-dev)
[ -d /usr/share/gocode/src/google.golang.org/protobuf ] || missing+=(golang-google-protobuf-dev)
command -v protoc-gen-go >/dev/null || missing+=(protoc-gen-go)
command -v protoc-gen-go-grpc >/dev/null || missing+=(protoc-gen-go-grpc)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "missing system packages for the tests; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
