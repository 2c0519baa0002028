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
cflags=(--target=wasm32-wasi "${sysroot[@]}" -O2 -Wall -Wextra -ffile-prefix-map="$here"=. -fdebug-prefix-map="$here"=. -s)

build() {  # build NAME SOURCES... [-- EXTRA FLAGS...]
  local name="$1"; shift
  "$cc" "${cflags[@]}" -o "$out/$name.wasm" "$@"
  echo "built $name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
}

build hello src/hello.c
# A stack of its own below the data: an overflow traps instead of
# overwriting globals (wasm-ld's default is 64 KiB above them).
ldflags=(-Wl,-z,stack-size=262144 -Wl,--stack-first)
# Sorted so the link order (and so the bytes) never depend on the file system.
mapfile -t toolbox_sources < <(LC_ALL=C ls src/toolbox/*.c)
build toolbox "${toolbox_sources[@]}" "${ldflags[@]}"

{
  "$cc" --version | head -n 1
  echo "wasi-libc $(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo "(sysroot ${WASI_SYSROOT:-/usr/share/wasi-sysroot})")"
} >"$out/TOOLCHAIN"
