#!/usr/bin/env bash
# Generates the Go messages and gRPC stubs of sessiond from the repository's
# proto/ into sessiondv1/ (or into DIR/sessiondv1 for a first argument DIR),
# with protoc, protoc-gen-go (1.28+, for proto3 `optional`) and
# protoc-gen-go-grpc (Debian: protobuf-compiler, protoc-gen-go,
# protoc-gen-go-grpc). Run it after changing proto/; the output is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$(cd "$here/../../proto" && pwd)
out=${1:-"$here"}
pkg="sessiond/clients/go/sessiondv1"
# The protos set no go_package; map each file to the package.
map="Msessiond/v1/session.proto=$pkg,Msessiond/v1/session_service.proto=$pkg"
for file in "$proto"/sessiond/v1/*.proto; do
  name=${file#"$proto/"}
  case ",$map," in *",M$name="*) ;; *) echo "generate.sh: $name has no package mapping" >&2; exit 1 ;; esac
done
mkdir -p "$out/sessiondv1"
rm -f "$out"/sessiondv1/*.pb.go
protoc -I "$proto" -I /usr/include \
  --go_out="$out/sessiondv1" --go_opt=paths=source_relative,"$map" \
  --go-grpc_out="$out/sessiondv1" --go-grpc_opt=paths=source_relative,"$map" \
  "$proto"/sessiond/v1/*.proto
# paths=source_relative writes sessiondv1/sessiond/v1/*.go; flatten into the package directory.
mv "$out"/sessiondv1/sessiond/v1/*.go "$out/sessiondv1/"
rm -rf "$out/sessiondv1/sessiond"
echo "generated $(ls "$out"/sessiondv1/*.pb.go | wc -l) files in $out/sessiondv1"
