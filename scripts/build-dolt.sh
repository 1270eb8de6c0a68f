#!/usr/bin/env bash
# Builds Dolt's own `dolt` command, at the Dolt version go.mod pins and
# without SibylDB's patches, into bin/dolt, for `make bench-sysbench` to
# measure the storage engine's own SQL server beside SibylDB and MariaDB.
# The module cache is never modified; the build reuses its downloads.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mod=github.com/dolthub/dolt/go
version="$(cd "$repo" && go list -m -f '{{.Version}}' "$mod")"
dir="$(cd "$repo" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "build-dolt: cannot find $mod@$version" >&2
  exit 1
fi
mkdir -p "$repo/bin"
(cd "$dir" && CGO_ENABLED=1 go build -o "$repo/bin/dolt" ./cmd/dolt)
"$repo/bin/dolt" version | head -1
