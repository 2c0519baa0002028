#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
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

static int copy(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
  for (ssize_t o = 0; o < n; ) {
    ssize_t w = write(to, buf + o, (size_t)(n - o));
    if (w < 0) { if (errno == EINTR) continue; return 0; }
    o += w;
  }
  return 1;
}

void tty_relay_until_exit(tty_relay *r, pid_t pid, int *status) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int in_open = 1;
  for (;;) {
    struct pollfd fds[3] = {
      { .fd = r->master, .events = POLLIN },
      { .fd = in_open ? r->in : -1, .events = POLLIN },
      { .fd = pfd, .events = POLLIN },
    };
    int n = poll(fds, 3, pfd >= 0 ? -1 : 100);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (copy(r->master, r->out) < 0 && !(fds[0].revents & POLLIN)) { /* slave closed everywhere */ }
    }
    if (in_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (copy(r->in, r->master) < 0) {
        /* End of input: send the terminal's EOF character, as typing ^D would. */
        struct termios t;
        char eof = tcgetattr(r->master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
        if (write(r->master, &eof, 1) < 0) {}
        in_open = 0;
      }
    }
    if (pfd < 0 || (fds[2].revents & POLLIN)) {
      pid_t w = waitpid(pid, status, pfd < 0 ? WNOHANG : 0);
      if (w == pid) break;
    }
  }
  /* Drain what the process wrote before it exited. */
  fcntl(r->master, F_SETFL, O_NONBLOCK);
  while (copy(r->master, r->out) > 0) {}
  if (pfd >= 0) close(pfd);
}
