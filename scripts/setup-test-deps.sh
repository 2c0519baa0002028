#!/usr/bin/env bash
# Installs what the test suite needs; a no-op when everything is present.
# Called by `npm test` (pretest). Needs root for the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: command -> package.
declare -A want=(
  [cc]=gcc
  [clang]=clang
  [wasm-ld]=lld
  [skopeo]=skopeo
  [umoci]=umoci
  [busybox]=busybox-static
  [runc]=runc
  [crun]=crun
  [docker-registry]=docker-registry
  [htpasswd]=apache2-utils
  [openssl]=openssl
  [chromium]=chromium
  [docker]=docker.io
  [ip]=iproute2
  [docker-compose]=docker-compose
  [nsenter]=util-linux
  [mount]=mount
  [ps]=procps
  [pgrep]=procps
  [sqlite3]=sqlite3
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
# Packages without a command of their own.
for pkg in wasi-libc libclang-rt-dev-wasm32 libc6-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    [ "${CI:-}" = true ] && exit 1
  else
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# npm packages, then the build (esbuild bundles and the native helper).
if [ ! -d node_modules/vitest ]; then
  npm ci --no-audit --no-fund
else
  [ -f sdk/dist/cli.js ] || npm run build
fi
