#!/usr/bin/env bash
# Builds FerretDB (the MongoDB-wire test service) from the Go module proxy, once per machine.
#
#   scripts/ferretdb/build.sh          # prints the binary's path; builds it only when missing
#   scripts/ferretdb/build.sh --path   # prints where the binary is (or would be), builds nothing
#
# `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at start:
# FerretDB's version package wants build/version/version.txt, which its release process generates and
# the module zip lacks. So we fetch the module, copy its source, write version.txt and build that copy.
# Everything (module cache, build cache, source, binary) lives under HG_TOOLS_DIR, default
# ~/.cache/healthgraph, so `make clean` keeps the binary and every checkout on the machine shares it.
# A cold build takes several minutes on 2 cores; a warm one is skipped.
set -euo pipefail

VERSION="${FERRETDB_VERSION:-v1.24.2}"
TOOLS="${HG_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/healthgraph}"
BIN="$TOOLS/bin/ferretdb-$VERSION"

if [[ "${1:-}" == --path ]]; then
  echo "$BIN"
  exit 0
fi
if [[ -x "$BIN" ]]; then
  echo "$BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ferretdb: Go is not installed, cannot build FerretDB $VERSION (tests that need MongoDB will skip)" >&2
  exit 1
fi

export GOPATH="$TOOLS/gopath" GOCACHE="$TOOLS/gocache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
mkdir -p "$TOOLS/bin"
echo "ferretdb: building FerretDB $VERSION from the Go module proxy into $TOOLS (several minutes the first time)" >&2
module_dir="$(cd "$TOOLS" && go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$module_dir" ]] || { echo "ferretdb: could not download github.com/FerretDB/FerretDB@$VERSION" >&2; exit 1; }

src="$TOOLS/src/ferretdb-$VERSION"
rm -rf "$src"
mkdir -p "$(dirname "$src")"
cp -r "$module_dir" "$src"
chmod -R u+w "$src"
echo "$VERSION" >"$src/build/version/version.txt"
(cd "$src" && go build -trimpath -o "$BIN.tmp" ./cmd/ferretdb)
mv "$BIN.tmp" "$BIN"
rm -rf "$src"
echo "$BIN"
