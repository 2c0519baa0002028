// oob: prints a line, then reads memory far beyond the end of linear memory
// (an out-of-bounds trap; natively SIGSEGV).
#include <stdint.h>
#include <stdio.h>

int main(void) {
  printf("before the out-of-bounds read\n");
  fflush(stdout);
  volatile int *far = (volatile int *)(uintptr_t)0xfffffff0u;
  printf("read %d\n", *far);
  return 0;
}
