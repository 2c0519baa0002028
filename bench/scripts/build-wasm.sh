#!/usr/bin/env bash
# Rebuilds the WASI benchmark programs in bench/src/peers/wasm (committed as
# built .wasm files). Needs clang, lld, wasi-libc and libclang-rt-dev-wasm32;
# SQLite is the amalgamation shipped in the better-sqlite3 npm package.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="$root/bench/src/peers/wasm"
sqlite="$root/node_modules/better-sqlite3/deps/sqlite3"
cc=(clang --target=wasm32-wasi -O2 -Wall -Wl,--strip-all)

"${cc[@]}" -o "$dir/wasibench.wasm" "$dir/wasibench.c"
echo "built wasibench.wasm ($(wc -c <"$dir/wasibench.wasm") bytes)"

[ -f "$sqlite/sqlite3.c" ] || { echo "build-wasm: $sqlite/sqlite3.c is missing (npm ci installs better-sqlite3)" >&2; exit 1; }
"${cc[@]}" -Wno-unused -I"$sqlite" \
  -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS \
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_DEFAULT_MEMSTATUS=0 \
  -Wl,-z,stack-size=1048576 \
  -o "$dir/sqlitebench.wasm" "$dir/sqlitebench.c" "$sqlite/sqlite3.c" \
  -lwasi-emulated-getpid -lwasi-emulated-mman -lwasi-emulated-signal -lwasi-emulated-process-clocks
echo "built sqlitebench.wasm ($(wc -c <"$dir/sqlitebench.wasm") bytes)"
