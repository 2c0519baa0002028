#!/usr/bin/env bash
# Builds the WASI test programs src/*.c into bin/*.wasm (committed), or into
# the directory given as $1. With --native DIR, builds the same programs for
# this Linux machine instead (static), which the tests run to check that the
# expected outputs are Linux's.
#
# Needs clang, lld and wasi-libc (Debian: clang lld wasi-libc
# libclang-rt-dev-wasm32); WASI_SYSROOT picks another sysroot. The output
# depends only on the sources and the toolchain (bin/TOOLCHAIN).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
native=0
if [ "${1:-}" = --native ]; then native=1; shift; fi
out="${1:-$here/bin}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$here"

cc="${CC:-clang}"
command -v "$cc" >/dev/null || { echo "build.sh: $cc not found (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)" >&2; exit 1; }
warn=(-Wall -Wextra -Wno-unused-parameter)
if [ $native = 1 ]; then
  for src in src/*.c; do
    name="$(basename "$src" .c)"
    "$cc" -O1 -static "${warn[@]}" -o "$out/$name" "$src"
  done
  exit 0
fi

sysroot=()
if [ -n "${WASI_SYSROOT:-}" ]; then sysroot=(--sysroot="$WASI_SYSROOT")
elif [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot)
fi
# --stack-first: a C stack overflow traps instead of overwriting globals.
flags=(--target=wasm32-wasi "${sysroot[@]}" -O2 "${warn[@]}" -ffile-prefix-map="$here"=. -s -Wl,--stack-first)
for src in $(LC_ALL=C ls src/*.c); do
  name="$(basename "$src" .c)"
  "$cc" "${flags[@]}" -o "$out/$name.wasm" "$src"
  echo "built $name.wasm ($(wc -c <"$out/$name.wasm") bytes)"
done
{
  "$cc" --version | head -n 1
  echo "wasi-libc $(dpkg-query -W -f='${Version}' wasi-libc 2>/dev/null || echo "(sysroot ${WASI_SYSROOT:-/usr/share/wasi-sysroot})")"
} >"$out/TOOLCHAIN"
