#!/usr/bin/env bash
# Rebuilds the sample WASI programs: bin/*.wasm, or into the directory given
# as $1 (the samples-build test rebuilds into a temp dir and compares).
#
# Needs clang with the wasm32-wasi target, wasm-ld (lld) and wasi-libc; on
# Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32. Debian's
# clang finds wasi-libc by itself (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi); set WASI_SYSROOT for another sysroot (wasi-sdk's).
#
# The output depends only on the sources and the toolchain: sources are
# compiled by relative path with prefix maps, without debug info, stripped.
# bin/TOOLCHAIN records the toolchain that built the committed files.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$here"

cc="${CC:-clang}"
command -v "$cc" >/dev/null || { echo "build.sh: $cc not found (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)" >&2; exit 1; }
sysroot=()
if [ -n "${WASI_SYSROOT:-}" ]; then sysroot=(--sysroot="$WASI_SYSROOT")
elif [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot)
fi
cflags=(--target=wasm32-wasi "${sysroot[@]}" -O2 -Wall -Wextra -ffile-prefix-map="$here"=. -fdebug-prefix-map="$here"=.)

build() {  # build NAME SOURCES... [-- EXTRA FLAGS...]
  local name="$1"; shift
  "$cc" "${cflags[@]}" -s -o "$out/$name.wasm" "$@"
  echo "built $name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
}

build hello src/hello.c
# A stack of its own below the data: an overflow traps instead of
# overwriting globals (wasm-ld's default is 64 KiB above them).
ldflags=(-Wl,-z,stack-size=262144 -Wl,--stack-first)
# Sorted so the link order (and so the bytes) never depend on the file system.
mapfile -t toolbox_sources < <(LC_ALL=C ls src/toolbox/*.c)
build toolbox "${toolbox_sources[@]}" "${ldflags[@]}"

# sqlite: the shell in sqlite/ with SQLite's amalgamation, which better-sqlite3
# (a devDependency) ships. WASI has no locks, no mmap and no threads: the
# shell opens files with the lock-free "unix-none" VFS; no WAL (it needs
# shared memory), no memory maps, temp tables in memory.
amalgamation="${SQLITE_AMALGAMATION:-}"
if [ -z "$amalgamation" ]; then
  for dir in ../node_modules ../../node_modules; do
    [ -f "$dir/better-sqlite3/deps/sqlite3/sqlite3.c" ] && amalgamation="$(cd "$dir/better-sqlite3/deps/sqlite3" && pwd)" && break
  done
fi
[ -f "$amalgamation/sqlite3.c" ] || { echo "build.sh: SQLite's amalgamation not found: run npm ci (better-sqlite3) or set SQLITE_AMALGAMATION" >&2; exit 1; }
sqlite_flags=(-Os -I"$amalgamation" -ffile-prefix-map="$amalgamation"=sqlite3
  -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_WAL
  -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_TEMP_STORE=3 -DSQLITE_OMIT_DEPRECATED -DSQLITE_DEFAULT_MEMSTATUS=0
  -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_MMAN)
# SQLite itself is compiled without our warnings.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$cc" "${cflags[@]}" "${sqlite_flags[@]}" -Wno-all -Wno-extra -c -o "$work/sqlite3.o" "$amalgamation/sqlite3.c"
build sqlite sqlite/sqlite-cli.c "$work/sqlite3.o" "${sqlite_flags[@]}" "${ldflags[@]}" -lwasi-emulated-getpid -lwasi-emulated-mman

{
  "$cc" --version | head -n 1
  echo "wasi-libc $(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo "(sysroot ${WASI_SYSROOT:-/usr/share/wasi-sysroot})")"
} >"$out/TOOLCHAIN"
