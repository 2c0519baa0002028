// stack-overflow: prints a line, then recurses forever. MODE:
//   c-stack (default)  big frames: runs out of the C stack in linear memory
//                      (built with --stack-first, so it traps out of bounds)
//   call-stack         tiny frames in wasm locals: runs out of the engine's
//                      call stack
// Natively both end in SIGSEGV.
#include <stdio.h>
#include <string.h>

static volatile int sink;

#pragma clang diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline)) static int big_frames(int n) {
  volatile char pad[1024];
  pad[n % 1024] = (char)n;
  return big_frames(n + 1) + pad[0];
}

__attribute__((noinline)) static int small_frames(int n) {
  if (sink == -1) return 0;
  int r = small_frames(n + 1);
  sink = r;
  return r + n;
}

int main(int argc, char **argv) {
  int call_stack = argc > 1 && !strcmp(argv[1], "call-stack");
  printf("before the overflow (%s)\n", call_stack ? "call-stack" : "c-stack");
  fflush(stdout);
  return call_stack ? small_frames(0) : big_frames(0);
}
