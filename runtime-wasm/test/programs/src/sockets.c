// sockets: accept, recv, send and shutdown on descriptors that are not
// sockets (fd 3, the preopened root under WASI; a directory, a file)
// and on a bad fd: each prints an errno, none traps.
// `sockets stdout`: the same calls on stdout only.
#include <sys/socket.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#include "common.h"

// wasi-libc has no accept(); sock_accept is its WASI call.
static int do_accept(int fd) {
#ifdef __wasi__
  __wasi_fd_t out;
  __wasi_errno_t e = __wasi_sock_accept((__wasi_fd_t)fd, 0, &out);
  if (e) {
    errno = e;
    return -1;
  }
  return (int)out;
#else
  return accept(fd, NULL, NULL);
#endif
}

static void on(const char *what, int fd) {
  char buf[16], label[64];
  snprintf(label, sizeof label, "accept %s", what);
  CHECK(label, do_accept(fd));
  snprintf(label, sizeof label, "recv %s", what);
  CHECK(label, recv(fd, buf, sizeof buf, 0));
  snprintf(label, sizeof label, "send %s", what);
  CHECK(label, send(fd, "x", 1, 0));
  snprintf(label, sizeof label, "shutdown %s", what);
  CHECK(label, shutdown(fd, SHUT_RDWR));
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "stdout")) {
    printf("on stdout:\n");
    fflush(stdout);
    on("stdout", 1);
    return 0;
  }
  on("fd 3", 3);
  mkdir_or_die("sockdir");
  int dir = open("sockdir", O_RDONLY | O_DIRECTORY);
  on("directory", dir);
  close(dir);
  put_file("sockfile", "x");
  int file = open("sockfile", O_RDWR);
  on("file", file);
  close(file);
  on("bad fd", 99);
  return 0;
}
