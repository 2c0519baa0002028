// hello: the smallest skiff sample, a WASI program that greets and exits 0.
#include <stdio.h>

int main(void) {
  puts("Hello from skiff!");
  puts("This is a WASI (preview1) program running in a skiff container.");
  return 0;
}
