#!/usr/bin/env bash
# Installs the system packages SibylDB's tests need on Debian/Ubuntu:
#   mariadb-client  the `mariadb` CLI used by end-to-end tests
#   mariadb-server  the reference server the benchmark compares against
#   sysbench        the OLTP benchmark run against SibylDB and MariaDB
#   libxgboost-dev  XGBoost's C library, which CREATE MODEL trains with (cgo)
#   patch           applies patches/dolt/ to the build (scripts/dolt-overlay.sh)
# and, with `go install`, the S3-compatible server the S3 tests and
# benchmark run against:
#   bin/versitygw   versitygw, pinned below
# and ONNX Runtime's shared library (from the onnxruntime-node npm package,
# which ships it for linux-x64; Debian has none), for the onnx backend:
#   bin/onnxruntime/libonnxruntime.so
# Already-present tools are skipped, so this is fast on a warm machine.
#
# `install-deps.sh build` installs only what building needs (libxgboost-dev, patch).
set -euo pipefail
scope="${1:-all}"

# versitygw: a Go program, so it is built into the repository's bin/ rather
# than installed system-wide; the S3 tests find it there.
VERSITYGW_VERSION=v1.8.0
repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ "$scope" = all ] && [ ! -x "$repo/bin/versitygw" ]; then
  echo "install-deps: installing versitygw $VERSITYGW_VERSION into $repo/bin"
  mkdir -p "$repo/bin"
  if ! GOBIN="$repo/bin" CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"; then
    echo "install-deps: could not install versitygw; the S3 tests will be skipped" >&2
  fi
fi

# ONNX Runtime: a prebuilt C library, downloaded once into bin/.
ORT_VERSION=1.30.0
ort_lib="$repo/bin/onnxruntime/libonnxruntime.so"
fetch_ort() {
  echo "install-deps: fetching ONNX Runtime $ORT_VERSION into $repo/bin/onnxruntime"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  url="https://registry.npmjs.org/onnxruntime-node/-/onnxruntime-node-$ORT_VERSION.tgz"
  if command -v curl >/dev/null 2>&1; then curl -sSfL -o "$tmp/ort.tgz" "$url"; else wget -q -O "$tmp/ort.tgz" "$url"; fi
  tar -xzf "$tmp/ort.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  mkdir -p "$repo/bin/onnxruntime"
  mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort_lib"
}

need=()
[ -f /usr/include/xgboost/c_api.h ] || need+=(libxgboost-dev)
command -v patch >/dev/null 2>&1 || need+=(patch)
if [ "$scope" = all ]; then
  command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
  command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || need+=(curl)
fi

if [ ${#need[@]} -eq 0 ]; then
  if [ "$scope" = all ] && [ ! -f "$ort_lib" ]; then fetch_ort; fi
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing ${need[*]} and no apt-get here; install them with your package manager" >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root (or sudo) to install ${need[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# policy-rc.d keeps the package from starting a system MariaDB we don't use.
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
if [ "$scope" = all ] && [ ! -f "$ort_lib" ]; then fetch_ort; fi
