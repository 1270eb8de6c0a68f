#!/usr/bin/env bash
# Installs the system packages SibylDB's tests need on Debian/Ubuntu:
#   mariadb-client  the `mariadb` CLI used by end-to-end tests
#   mariadb-server  the reference server the benchmark compares against
#   libxgboost-dev  XGBoost's C library, which CREATE MODEL trains with (cgo)
# Already-present packages are skipped, so this is fast on a warm machine.
set -euo pipefail

need=()
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
[ -f /usr/include/xgboost/c_api.h ] || need+=(libxgboost-dev)

if [ ${#need[@]} -eq 0 ]; then
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
