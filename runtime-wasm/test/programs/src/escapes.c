// escapes: ways out of the root (.., absolute and relative symlinks, chdir).
// Each must fail or stay inside: run in a chroot on Linux, every path
// below reaches the /etc/passwd this program writes itself ("inside").
// A line saying OUTSIDE read some other file: the sandbox leaked.
#include <dirent.h>

#include "common.h"

static const char *MARK = "inside the root\n";

static void try_open(const char *label, const char *path) {
  char buf[64] = {0};
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("%s: %s\n", label, errname(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) printf("%s: read %s\n", label, errname(errno));
  else printf("%s: %s\n", label, !strcmp(buf, MARK) ? "inside" : "OUTSIDE");
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *label, const char *path) {
  DIR *d = opendir(path);
  if (!d) {
    printf("%s: %s\n", label, errname(errno));
    return;
  }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp);
  printf("%s:", label);
  for (int i = 0; i < n; i++) printf(" %s", names[i]), free(names[i]);
  printf("\n");
}

int main(void) {
#ifndef __wasi__
  // Natively the test gives the root to jail into (as root, or in a user namespace).
  const char *jail = getenv("TEST_CHROOT");
  if (jail && (chroot(jail) != 0 || chdir("/") != 0)) {
    printf("chroot %s: %s\n", jail, errname(errno));
    return 99;
  }
#endif
  mkdir_or_die("/etc");
  put_file("/etc/passwd", MARK);
  mkdir_or_die("/sub");
  mkdir_or_die("/sub/deeper");

  try_open("../etc/passwd", "../etc/passwd");
  try_open("/../../etc/passwd", "/../../etc/passwd");
  try_open("/sub/../../../etc/passwd", "/sub/../../../etc/passwd");
  try_open("/sub/deeper/../../../../../../../../etc/passwd", "/sub/deeper/../../../../../../../../etc/passwd");

  CHECK("symlink /sub/root -> /", symlink("/", "/sub/root"));
  try_open("/sub/root/etc/passwd", "/sub/root/etc/passwd");
  try_open("/sub/root/../../etc/passwd", "/sub/root/../../etc/passwd");
  CHECK("symlink /sub/up -> ../..", symlink("../..", "/sub/up"));
  try_open("/sub/up/etc/passwd", "/sub/up/etc/passwd");
  try_open("/sub/up/sub/up/etc/passwd", "/sub/up/sub/up/etc/passwd");
  CHECK("symlink /sub/pw -> ../../../../etc/passwd", symlink("../../../../etc/passwd", "/sub/pw"));
  try_open("/sub/pw", "/sub/pw");
  CHECK("symlink /sub/abs -> /etc/passwd", symlink("/etc/passwd", "/sub/abs"));
  try_open("/sub/abs", "/sub/abs");
  CHECK("symlink /sub/deeper/up3 -> ../../../..", symlink("../../../..", "/sub/deeper/up3"));
  try_open("/sub/deeper/up3/etc/passwd", "/sub/deeper/up3/etc/passwd");

  list("ls /..", "/..");
  list("ls /sub/up", "/sub/up");
  list("ls /sub/root/..", "/sub/root/..");
  struct stat a, b;
  if (stat("/", &a) == 0 && stat("/..", &b) == 0) printf("/.. is /: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
  else printf("/.. is /: %s\n", errname(errno));

  // chdir upwards, then relative paths.
  CHECK("chdir /sub/deeper", chdir("/sub/deeper"));
  CHECK("chdir ../../..", chdir("../../.."));
  try_open("etc/passwd after chdir ../../..", "etc/passwd");
  CHECK("chdir ..", chdir(".."));
  try_open("etc/passwd after chdir ..", "etc/passwd");
  CHECK("chdir /sub/up", chdir("/sub/up"));
  try_open("etc/passwd after chdir /sub/up", "etc/passwd");
  try_open("../etc/passwd after chdir /sub/up", "../etc/passwd");
  CHECK("chdir /", chdir("/"));

  // Writes that aim outside land inside (or fail).
  CHECK("mkdir /../made", mkdir("/../made", 0755));
  STAT("stat /made", stat, "/made");
  put_file("/etc/other", "x");
  CHECK("rename /etc/other -> /../../moved", rename("/etc/other", "/../../moved"));
  STAT("stat /moved", stat, "/moved");
  CHECK("symlink /sub/out -> ../../../../created", symlink("../../../../created", "/sub/out"));
  int fd = open("/sub/out", O_WRONLY | O_CREAT, 0644);
  CHECK("create through /sub/out", fd);
  if (fd >= 0) close(fd);
  STAT("stat /created", stat, "/created");
  CHECK("link /etc/passwd -> /../linked", link("/etc/passwd", "/../linked"));
  try_open("/linked", "/linked");
  return 0;
}
