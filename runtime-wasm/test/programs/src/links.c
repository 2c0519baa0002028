// links: symlink, readlink, hard links and link counts, loops, trailing
// slashes. Works in ./links.
#include "common.h"

static void show_readlink(const char *label, const char *path, size_t size) {
  char buf[256];
  errno = 0;
  ssize_t n = readlink(path, buf, size);
  if (n < 0) printf("%s: %s\n", label, errname(errno));
  else printf("%s: %zd \"%.*s\"\n", label, n, (int)n, buf);
}

int main(void) {
  mkdir_or_die("links");
  mkdir_or_die("links/dir");
  put_file("links/file", "data");
  put_file("links/dir/inner", "inner");

  CHECK("symlink", symlink("file", "links/s"));
  CHECK("symlink over existing", symlink("other", "links/s"));
  CHECK("symlink in missing dir", symlink("file", "links/nodir/s"));
  show_readlink("readlink", "links/s", 256);
  show_readlink("readlink small buffer", "links/s", 2);
  show_readlink("readlink file", "links/file", 256);
  show_readlink("readlink missing", "links/missing", 256);
  printf("read through symlink: %s\n", file_text("links/s"));
  CHECK("symlink to dir", symlink("dir", "links/sdir"));
  printf("through dir symlink: %s\n", file_text("links/sdir/inner"));
  CHECK("symlink chain", symlink("s", "links/s2"));
  printf("through chain: %s\n", file_text("links/s2"));
  CHECK("symlink empty target", symlink("", "links/empty"));
  CHECK("symlink long target", symlink("a/b/c/d/e/f/g/h/../../../../../../../../file", "links/long"));
  printf("through long: %s\n", file_text("links/long"));

  CHECK("dangling symlink", symlink("nothing", "links/dangling"));
  STAT("stat dangling", stat, "links/dangling");
  STAT("lstat dangling", lstat, "links/dangling");
  CHECK("loop a", symlink("loop-b", "links/loop-a"));
  CHECK("loop b", symlink("loop-a", "links/loop-b"));
  STAT("stat loop", stat, "links/loop-a");
  CHECK("open loop", open("links/loop-a", O_RDONLY));
  CHECK("self loop", symlink("self", "links/self"));
  STAT("stat self loop", stat, "links/self/x");

  // Hard links.
  STAT("before link", stat, "links/file");
  CHECK("link", link("links/file", "links/hard"));
  STAT("file after link", stat, "links/file");
  STAT("hard link", stat, "links/hard");
  struct stat a, b;
  stat("links/file", &a);
  stat("links/hard", &b);
  printf("same inode: %s\n", a.st_ino == b.st_ino ? "yes" : "no");
  int fd = open("links/hard", O_WRONLY | O_APPEND);
  write(fd, "+more", 5);
  close(fd);
  printf("write through hard link: %s\n", file_text("links/file"));
  CHECK("link over existing", link("links/file", "links/hard"));
  CHECK("link missing", link("links/missing", "links/h2"));
  CHECK("link dir", link("links/dir", "links/hdir"));
  CHECK("link to symlink", link("links/s", "links/hs"));
  STAT("lstat link to symlink", lstat, "links/hs");
  CHECK("unlink one name", unlink("links/file"));
  STAT("remaining name", stat, "links/hard");
  CHECK("unlink symlink", unlink("links/s2"));
  STAT("chain target kept", lstat, "links/s");

  // Trailing slashes.
  STAT("stat file/", stat, "links/hard/");
  CHECK("open file/", open("links/hard/", O_RDONLY));
  CHECK("open file/ O_CREAT", open("links/newfile/", O_WRONLY | O_CREAT, 0644));
  STAT("stat dir/", stat, "links/dir/");
  STAT("stat symlink-to-dir/", stat, "links/sdir/");
  STAT("lstat symlink-to-dir", lstat, "links/sdir");
  STAT("lstat symlink-to-dir/", lstat, "links/sdir/");
  STAT("lstat dangling symlink/", lstat, "links/s/");
  CHECK("unlink file/", unlink("links/hard/"));
  CHECK("unlink symlink-to-dir/", unlink("links/sdir/"));
  CHECK("mkdir new/", mkdir("links/newdir/", 0755));
  CHECK("rmdir new/", rmdir("links/newdir/"));
  CHECK("symlink new/", symlink("file", "links/snew/"));
  CHECK("symlink over file/", symlink("file", "links/hard/"));
  CHECK("link to file/", link("links/hard/", "links/h3"));
  CHECK("link new/", link("links/hard", "links/h4/"));
  CHECK("rename file to new/", rename("links/hard", "links/h5/"));
  show_readlink("readlink symlink/", "links/sdir/", 256);
  return 0;
}
