// Applets that only return a status: true, false, sleep, exit.
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "toolbox.h"

int applet_true(tb_ctx *c, int argc, char **argv) {
  (void)c, (void)argc, (void)argv;
  return 0;
}

int applet_false(tb_ctx *c, int argc, char **argv) {
  (void)c, (void)argc, (void)argv;
  return 1;
}

// sleep SECONDS...: fractions and the suffixes s, m, h, d as in coreutils.
int applet_sleep(tb_ctx *c, int argc, char **argv) {
  if (argc < 2) {
    tb_puts(c->err, "sleep: missing operand\n");
    return 1;
  }
  double total = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    double v = strtod(argv[i], &end);
    double unit = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 : -1;
    if (end == argv[i] || unit < 0 || v < 0) {
      tb_printf(c->err, "sleep: invalid time interval '%s'\n", argv[i]);
      return 1;
    }
    total += v * unit;
  }
  struct timespec ts = {(time_t)total, (long)((total - (double)(time_t)total) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    if (errno != EINTR) return tb_fail(c, "sleep", argv[1], errno);
  return 0;
}

// exit [N] as a program of its own; the shell has its own builtin.
int applet_exit(tb_ctx *c, int argc, char **argv) {
  (void)c;
  return argc > 1 ? atoi(argv[1]) & 255 : 0;
}
