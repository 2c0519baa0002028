// trap: prints a line, then executes an unreachable instruction
// (__builtin_trap; natively SIGILL).
#include <stdio.h>

int main(void) {
  printf("before the trap\n");
  fflush(stdout);
  __builtin_trap();
  printf("after the trap\n");
  return 0;
}
