// exit: how a program ends. exit.wasm MODE N:
//   return N   returns N from main
//   exit N     exit(N) after unflushed output (exit flushes it)
//   _Exit N    _Exit(N) after unflushed output (lost)
//   atexit N   exit(N) runs an atexit handler
#include "common.h"

static void handler(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exit return|exit|_Exit|atexit N\n");
    return 2;
  }
  int n = atoi(argv[2]);
  const char *mode = argv[1];
  if (!strcmp(mode, "return")) {
    printf("returning %d\n", n);
    return n;
  }
  if (!strcmp(mode, "exit")) {
    printf("buffered, no newline");
    exit(n);
  }
  if (!strcmp(mode, "_Exit")) {
    printf("flushed line\n");
    fflush(stdout);
    printf("lost, never flushed");
    _Exit(n);
  }
  if (!strcmp(mode, "atexit")) {
    atexit(handler);
    printf("exiting %d\n", n);
    exit(n);
  }
  fprintf(stderr, "exit: unknown mode %s\n", mode);
  return 2;
}
