// A guest for worker-mode tests: misbehaving on purpose.
//   spin            prints "spinning", then loops forever without a syscall
//   alloc           mallocs and touches 1 MiB blocks until malloc fails; says how far it got, exits 12
//   tick N MS       prints "tick I" N times, sleeping MS milliseconds between
//   echo            prints "> " and echoes each stdin line as "got: LINE" until EOF
//   files N         creates N small files under /tmp/many
//   trap            executes unreachable
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

static volatile unsigned long counter;

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "spin";
  if (!strcmp(mode, "spin")) {
    printf("spinning\n");
    fflush(stdout);
    for (;;) counter++;
  }
  if (!strcmp(mode, "alloc")) {
    unsigned long mib = 0;
    // The blocks are chained, so the compiler cannot drop the allocations as unused.
    static void *volatile last;
    for (;;) {
      char *p = malloc(1 << 20);
      if (!p) break;
      memset(p, 1, 1 << 20);
      *(void **)p = last;
      last = p;
      mib++;
    }
    fprintf(stderr, "malloc failed after %lu MiB\n", mib);
    return 12;
  }
  if (!strcmp(mode, "tick")) {
    int n = argc > 2 ? atoi(argv[2]) : 3, ms = argc > 3 ? atoi(argv[3]) : 100;
    for (int i = 1; i <= n; i++) {
      printf("tick %d\n", i);
      fflush(stdout);
      if (i < n) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, 0);
      }
    }
    return 0;
  }
  if (!strcmp(mode, "echo")) {
    char line[4096];
    printf("> ");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
      printf("got: %s", line);
      printf("> ");
      fflush(stdout);
    }
    printf("eof\n");
    return 0;
  }
  if (!strcmp(mode, "files")) {
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    mkdir("/tmp/many", 0755);
    char path[64];
    for (int i = 0; i < n; i++) {
      snprintf(path, sizeof path, "/tmp/many/f%d", i);
      FILE *f = fopen(path, "w");
      if (!f) { perror(path); return 1; }
      fprintf(f, "%d\n", i);
      fclose(f);
    }
    printf("made %d files\n", n);
    return 0;
  }
  if (!strcmp(mode, "trap")) __builtin_trap();
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
