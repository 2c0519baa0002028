#!/bin/sh
# Compiles skiff-runtime (the Linux backend's native helper) into native/build/.
# Run by the package's install script. Without a working C compiler it says what
# to install and exits 0, so `npm ci` still succeeds and the WASI backend works;
# the Linux backend then reports itself unavailable with the same advice.
set -eu
cd "$(dirname "$0")"
if [ "$(uname -s)" != Linux ]; then
  echo "skiff: not on Linux; the native helper of the Linux backend is not built" >&2
  exit 0
fi
CC=${CC:-}
if [ -z "$CC" ]; then
  for c in cc gcc clang; do
    if command -v "$c" >/dev/null 2>&1; then CC=$c; break; fi
  done
fi
if [ -z "$CC" ]; then
  echo "skiff: no C compiler found, so the Linux backend's helper (skiff-runtime) is not built." >&2
  echo "skiff: install one (Debian/Ubuntu: apt-get install gcc, or build-essential) and run: npm rebuild @skiff/runtime-linux" >&2
  exit 0
fi
mkdir -p build
# The seccomp syscall table comes from this machine's own headers.
if ! echo '#include <sys/syscall.h>' | "$CC" -dM -E - 2>build/cc.log | sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/{"\1", __NR_\1},/p' | sort > build/syscalls.inc.tmp || [ ! -s build/syscalls.inc.tmp ]; then
  echo "skiff: $CC cannot read <sys/syscall.h>; install the C library headers (Debian/Ubuntu: apt-get install libc6-dev linux-libc-dev) and run: npm rebuild @skiff/runtime-linux" >&2
  cat build/cc.log >&2
  exit 0
fi
mv build/syscalls.inc.tmp build/syscalls.inc
flags="-O2 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Ibuild"
# Static when the C library allows it: no dynamic loader on the start path.
if "$CC" $flags -static -o build/skiff-runtime.tmp src/*.c 2>build/cc.log || "$CC" $flags -o build/skiff-runtime.tmp src/*.c 2>build/cc.log; then
  mv build/skiff-runtime.tmp build/skiff-runtime
  [ -s build/cc.log ] && cat build/cc.log >&2
  exit 0
fi
echo "skiff: compiling the Linux backend's helper failed (see runtime-linux/native/build/cc.log); the headers may be missing (Debian/Ubuntu: apt-get install gcc libc6-dev linux-libc-dev)" >&2
cat build/cc.log >&2
exit 0
