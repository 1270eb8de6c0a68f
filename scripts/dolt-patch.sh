#!/usr/bin/env bash
# Builds the patched copy of Dolt that SibylDB compiles against.
#
# It copies the pinned github.com/dolthub/dolt/go module from the module
# cache into build/dolt-go, applies the patches in patches/dolt/ (each
# patch's header says what it changes and why), and writes
# build/go.dolt.mod: go.mod plus a replace directive pointing Dolt at the
# copy. The Makefile passes -modfile=build/go.dolt.mod to every go command.
# A plain `go build` without it builds SibylDB against unpatched Dolt,
# which is correct but slower. The module cache is never modified.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$repo/build"
out="$build/dolt-go"
stamp="$build/dolt-go.stamp"

# Nothing to do when the patches, go.mod and go.sum are unchanged.
want="$(cat "$repo"/patches/dolt/*.patch "$repo/go.mod" "$repo/go.sum" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$build/go.dolt.mod" ]; then
  exit 0
fi

moddir="$(cd "$repo" && go mod download -json github.com/dolthub/dolt/go | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$moddir" ] || [ ! -d "$moddir" ]; then
  echo "dolt-patch: cannot find the github.com/dolthub/dolt/go module" >&2
  exit 1
fi
rm -rf "$out" "$stamp"
mkdir -p "$build"
cp -R "$moddir" "$out"
chmod -R u+w "$out"
for p in "$repo"/patches/dolt/*.patch; do
  patch --quiet --forward -p1 -d "$out" < "$p" || { echo "dolt-patch: $p does not apply to $moddir" >&2; exit 1; }
done
{ cat "$repo/go.mod"; echo; echo "replace github.com/dolthub/dolt/go => $out"; } > "$build/go.dolt.mod"
cp "$repo/go.sum" "$build/go.dolt.sum"
echo "$want" > "$stamp"
