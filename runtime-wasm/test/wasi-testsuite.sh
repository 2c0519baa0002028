#!/usr/bin/env bash
# Runs the official WASI test suite against skiff's WASI host (and node:wasi with --node).
#   WASI_TESTSUITE=/path/to/wasi-testsuite bash runtime-wasm/test/wasi-testsuite.sh [--node] [--shim] [--fs=double|shim] [--errno-unix] [--verbose] [filter]
# The checkout must be of the prod/testsuite-base branch (it carries the prebuilt tests).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$repo"
npx esbuild "$here/wasi-testsuite.ts" --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/wasi-testsuite.mjs" --log-level=warning
node --no-warnings "$out/wasi-testsuite.mjs" "$@"
