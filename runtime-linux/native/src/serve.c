/*
 * `skiff-runtime serve --socket NAME`: a launcher that saves a process spawn
 * per container start. It reads requests on stdin, each its length in bytes
 * on a line and then that much JSON,
 *
 *   {"token":"…","args":["run","--bundle",…],"stdin":true,"env":{"SKIFF_TTY_SIZE":"24x80"}}
 *
 * each served by a shim forked ahead of time (no exec: the shim runs `run` or
 * `exec` from this same image). The shim puts itself in its own session, connects to the
 * abstract unix socket NAME once per stream - "TOKEN 0\n" stdin (when asked),
 * "TOKEN 1\n" stdout, "TOKEN 2\n" stderr, "TOKEN 3\n" status - and uses those
 * connections as fds 0-3; the stdio relay turns them into pipes for the
 * container. {"remove":"/dir"} (or a list of them) deletes directory trees in a child process,
 * off Node's thread. The launcher ends when its stdin does (its shims carry on).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

static int connect_stream(const char *name, const char *token, int stream) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n + 1 > sizeof addr.sun_path) { close(fd); errno = ENAMETOOLONG; return -1; }
  memcpy(addr.sun_path + 1, name, n);
  /* Abstract (leading NUL). Node (libuv) binds such a name with the whole
     sun_path, zero-padded, so the address length is the full structure. */
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { close(fd); return -1; }
  char hello[160];
  int len = snprintf(hello, sizeof hello, "%s %d\n", token, stream);
  if (write(fd, hello, (size_t)len) != len) { close(fd); return -1; }
  return fd;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

static void shim(const char *name, json *req) {
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  setsid();
  const char *token = jstr(req, "token");
  char **args = jstrings(jarr(req, "args"));
  if (!token || !args || !args[0]) _exit(2);
  json *env = jobj(req, "env");
  for (size_t i = 0; env && i < env->n; i++) if (env->items[i]->t == J_STR) setenv(env->keys[i], env->items[i]->s, 1);
  int want_stdin = jbool(req, "stdin", 0);
  for (int stream = 0; stream < 4; stream++) {
    int fd;
    if (stream == 0 && !want_stdin) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    else fd = connect_stream(name, token, stream);
    if (fd < 0) _exit(3);
    if (fd != stream) {
      if (dup2(fd, stream) < 0) _exit(3);
      close(fd);
    }
  }
  int argc = 0;
  while (args[argc]) argc++;
  /* run and exec mark the status fd close-on-exec themselves. */
  if (!strcmp(args[0], "run")) _exit(cmd_run(argc - 1, args + 1));
  if (!strcmp(args[0], "exec")) _exit(cmd_exec(argc - 1, args + 1));
  _exit(2);
}

/* Reads one request, "LENGTH\n" then LENGTH bytes of JSON, without reading past it
   (the next spare reads the next one from the same pipe). NULL at the end of input. */
static char *read_request(void) {
  char head[24];
  size_t n = 0;
  for (;;) {
    ssize_t r = read(0, head + n, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return NULL;
    if (head[n] == '\n') break;
    if (++n == sizeof head) return NULL;
  }
  head[n] = 0;
  size_t len = strtoul(head, NULL, 10);
  if (len == 0 || len > (1u << 24)) return NULL;
  char *buf = malloc(len + 1);
  if (!buf) return NULL;
  for (size_t got = 0; got < len;) {
    ssize_t r = read(0, buf + got, len - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) { free(buf); return NULL; }
    got += (size_t)r;
  }
  buf[len] = 0;
  return buf;
}

/* A spare: waits for the next request, tells the launcher it took one (so it forks the next spare), serves it. */
static void spare(const char *name, int took) {
  char *line = read_request();
  if (!line) _exit(0);
  if (write(took, "t", 1) != 1) {}
  close(took);
  serr_t e = {0};
  json *req = json_parse(line, &e);
  if (!req || req->t != J_OBJ) { fprintf(stderr, "skiff-runtime serve: bad request: %s\n", e.msg); _exit(2); }
  json *rm = jget(req, "remove");
  if (rm) {
    close(0);
    /* Depth first, never following symlinks or crossing into another file system. */
    if (rm->t == J_STR) nftw(rm->s, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    for (size_t i = 0; rm->t == J_ARR && i < rm->n; i++)
      if (rm->items[i]->t == J_STR) nftw(rm->items[i]->s, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    _exit(0);
  }
  shim(name, req);
}

int cmd_serve(int argc, char **argv) {
  const char *name = NULL;
  for (int i = 0; i + 1 < argc; i += 2) if (!strcmp(argv[i], "--socket")) name = argv[i + 1];
  if (!name) return usage_error("serve", "(--socket is required)");
  /* Shims are reaped by the kernel; nothing here waits for them. */
  signal(SIGCHLD, SIG_IGN);
  /*
   * The fork happens before the request, not after: a spare child is always
   * waiting on stdin, so a start costs Node's write and that child's wakeup,
   * with no fork in between. The launcher only forks the next spare once the
   * current one has taken its request, and ends with its input.
   */
  for (;;) {
    int took[2];
    if (pipe2(took, O_CLOEXEC) < 0) { fprintf(stderr, "skiff-runtime serve: pipe: %s\n", strerror(errno)); return 1; }
    pid_t pid = fork();
    if (pid < 0) { fprintf(stderr, "skiff-runtime serve: fork: %s\n", strerror(errno)); return 1; }
    if (pid == 0) {
      close(took[0]);
      spare(name, took[1]);
      _exit(0);
    }
    close(took[1]);
    char b;
    ssize_t r;
    while ((r = read(took[0], &b, 1)) < 0 && errno == EINTR) {}
    close(took[0]);
    if (r != 1) return 0; /* the spare found the end of the input (or died): done */
  }
}
