#!/usr/bin/env bash
# Installs the programs the benchmarks compare skiff with (Debian packages);
# a no-op when everything is present. Needs root for apt-get.
#   skopeo, docker-registry  pull         umoci, tar    unpack
#   crun, runc, busybox      linux-start  (node:wasi and @bjorn3/browser_wasi_shim come with Node and npm ci)
# Rebuilding the WASI workloads (bench/scripts/build-wasm.sh) also needs
# clang, lld, wasi-libc and libclang-rt-dev-wasm32: pass --wasm-toolchain.
set -euo pipefail

declare -A want=(
  [skopeo]=skopeo
  [docker-registry]=docker-registry
  [umoci]=umoci
  [tar]=tar
  [gzip]=gzip
  [crun]=crun
  [runc]=runc
  [unshare]=util-linux
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${want[$cmd]}")
done
# A static busybox (the linux-start image); the dynamic one does not run in a bare rootfs.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing+=(busybox-static)
if [ "${1:-}" = --wasm-toolchain ]; then
  command -v clang >/dev/null 2>&1 || missing+=(clang)
  command -v wasm-ld >/dev/null 2>&1 || missing+=(lld)
  for pkg in wasi-libc libclang-rt-dev-wasm32; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-peers: missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "setup-peers: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
