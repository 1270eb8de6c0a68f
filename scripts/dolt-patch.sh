#!/usr/bin/env bash
# Builds the patched copies of Dolt and go-mysql-server that SibylDB
# compiles against.
#
# For each patched module it copies the pinned version from the module
# cache into build/ (Dolt into build/dolt-go, go-mysql-server into
# build/gms), applies the patches in patches/dolt/ or patches/gms/ (each
# patch's header says what it changes and why), and writes
# build/go.dolt.mod: go.mod plus replace directives pointing the modules at
# the copies. The Makefile passes -modfile=build/go.dolt.mod to every go
# command; without it SibylDB does not compile (it uses hooks the patches
# add). The module cache is never modified.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
build="$repo/build"
stamp="$build/patched.stamp"

# module path, copy directory under build/, patch directory under patches/
modules=(
  "github.com/dolthub/dolt/go dolt-go dolt"
  "github.com/dolthub/go-mysql-server gms gms"
)

# Nothing to do when the patches, go.mod and go.sum are unchanged.
want="$(cat "$repo"/patches/*/*.patch "$repo/go.mod" "$repo/go.sum" "$0" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$build/go.dolt.mod" ]; then
  exit 0
fi
rm -f "$stamp"
mkdir -p "$build"
replaces=""
for m in "${modules[@]}"; do
  read -r mod dir patches <<<"$m"
  moddir="$(cd "$repo" && go mod download -json "$mod" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$moddir" ] || [ ! -d "$moddir" ]; then
    echo "dolt-patch: cannot find the $mod module" >&2
    exit 1
  fi
  out="$build/$dir"
  rm -rf "$out"
  cp -R "$moddir" "$out"
  chmod -R u+w "$out"
  for p in "$repo"/patches/"$patches"/*.patch; do
    patch --quiet --forward -p1 -d "$out" < "$p" || { echo "dolt-patch: $p does not apply to $moddir" >&2; exit 1; }
  done
  replaces+="replace $mod => $out"$'\n'
done
{ cat "$repo/go.mod"; echo; printf '%s' "$replaces"; } > "$build/go.dolt.mod"
cp "$repo/go.sum" "$build/go.dolt.sum"
echo "$want" > "$stamp"
