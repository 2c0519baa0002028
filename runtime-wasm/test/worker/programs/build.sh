#!/usr/bin/env bash
# Rebuilds the committed worker-mode test programs (needs clang with the wasm32-wasi target and wasi-libc:
# Debian's clang, lld, wasi-libc and libclang-rt-dev-wasm32; scripts/setup-test-deps.sh installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for src in "$here"/*.c; do
  out="${src%.c}.wasm"
  clang --target=wasm32-wasi -O2 -Wall -Wl,--strip-all -o "$out" "$src"
  echo "built $(basename "$out") ($(wc -c <"$out") bytes)"
done
