#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tty_open(tty_relay *r, int *slave, serr_t *e) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return fail(e, "tty", errno, "open /dev/ptmx");
  if (grantpt(m) < 0 || unlockpt(m) < 0) { int err = errno; close(m); return fail(e, "tty", err, "unlock the pseudo-terminal"); }
  char name[128];
  if (ptsname_r(m, name, sizeof name)) { int err = errno; close(m); return fail(e, "tty", err, "ptsname"); }
  int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) { int err = errno; close(m); return fail(e, "tty", err, "open %s", name); }
  const char *size = getenv("SKIFF_TTY_SIZE");
  if (size) tty_set_size(m, size);
  snprintf(r->slave_name, sizeof r->slave_name, "%s", name);
  r->master = m;
  r->in = 0;
  r->out = 1;
  *slave = s;
  return 0;
}

int tty_set_size(int fd, const char *spec) {
  unsigned rows = 0, cols = 0;
  if (sscanf(spec, "%ux%u", &rows, &cols) != 2) return -1;
  struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
  return ioctl(fd, TIOCSWINSZ, &ws);
}

int tty_make_stdio(int slave, serr_t *e) {
  if (ioctl(slave, TIOCSCTTY, 0) < 0) return fail(e, "tty", errno, "make the terminal the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) return fail(e, "tty", errno, "dup the terminal to fd %d", fd);
  if (slave > 2) close(slave);
  return 0;
}
