/*
 * The WASI benchmark workloads, one program for every runtime measured:
 *   wasibench hello           prints one line
 *   wasibench seq N           prints 1..N, one number a line (like seq), through
 *                             stdio's buffer (full buffering: stdout is not a tty)
 *   wasibench lines N         the same lines, each with its own write(2), as programs
 *                             whose stdout is line-buffered do (Rust's println!,
 *                             C under setvbuf _IOLBF or on a tty, Python -u)
 *   wasibench files N DIR     creates N files in DIR, stats, reads back and deletes them
 * Exits non-zero with a message on stderr when anything fails, so a runtime
 * that gets a call wrong cannot look fast.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
  fprintf(stderr, "wasibench: %s %s: %s\n", what, path, strerror(errno));
  return 1;
}

static int files(int n, const char *dir) {
  char path[512], body[128], back[128];
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%05d.txt", dir, i);
    int len = snprintf(body, sizeof body, "file %d of the wasibench files workload\n", i);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) return fail("open", path);
    if (write(fd, body, len) != len) return fail("write", path);
    if (close(fd) != 0) return fail("close", path);
  }
  for (int i = 0; i < n; i++) {
    struct stat st;
    snprintf(path, sizeof path, "%s/f%05d.txt", dir, i);
    if (stat(path, &st) != 0) return fail("stat", path);
    if (!S_ISREG(st.st_mode) || st.st_size < 30) { errno = EINVAL; return fail("stat (wrong type or size)", path); }
  }
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%05d.txt", dir, i);
    int len = snprintf(body, sizeof body, "file %d of the wasibench files workload\n", i);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return fail("open", path);
    ssize_t got = read(fd, back, sizeof back);
    if (got != len || memcmp(back, body, len) != 0) { errno = EIO; return fail("read (wrong content)", path); }
    close(fd);
  }
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%05d.txt", dir, i);
    if (unlink(path) != 0) return fail("unlink", path);
  }
  printf("%d files\n", n);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "hello") == 0) {
    fputs("hello, world\n", stdout);
    return 0;
  }
  if (strcmp(cmd, "seq") == 0 && argc > 2) {
    int n = atoi(argv[2]);
    for (int i = 1; i <= n; i++) printf("%d\n", i);
    return 0;
  }
  if (strcmp(cmd, "lines") == 0 && argc > 2) {
    int n = atoi(argv[2]);
    char line[16];
    for (int i = 1; i <= n; i++) {
      int len = snprintf(line, sizeof line, "%d\n", i);
      if (write(1, line, len) != len) return fail("write", "stdout");
    }
    return 0;
  }
  if (strcmp(cmd, "files") == 0 && argc > 3) {
    mkdir(argv[3], 0755);
    return files(atoi(argv[2]), argv[3]);
  }
  fprintf(stderr, "usage: wasibench hello | seq N | lines N | files N DIR\n");
  return 2;
}
