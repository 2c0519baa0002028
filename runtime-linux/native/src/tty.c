#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
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

int tty_open_in_container(int sock, int bind_console, int *slave, serr_t *e) {
  tty_relay r;
  if (tty_open(&r, slave, e) < 0) return -1;
  if (bind_console) {
    int cfd = open("/dev/console", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (cfd < 0) { close(r.master); return fail(e, "tty", errno, "create /dev/console"); }
    close(cfd);
    if (mount(r.slave_name, "/dev/console", NULL, MS_BIND, NULL) < 0) { int err = errno; close(r.master); return fail(e, "mount", err, "bind the terminal %s on /dev/console", r.slave_name); }
  }
  char byte = 'm';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &r.master, sizeof(int));
  ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  int err = errno;
  close(r.master);
  close(sock);
  return n == 1 ? 0 : fail(e, "tty", err, "send the terminal to the runtime helper");
}

int tty_receive_master(int sock, tty_relay *r, serr_t *e) {
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return fail(e, "tty", n < 0 ? errno : 0, "receive the container's terminal");
  memcpy(&r->master, CMSG_DATA(c), sizeof(int));
  r->in = 0;
  r->out = 1;
  snprintf(r->slave_name, sizeof r->slave_name, "/dev/console");
  return 0;
}
