// devnull: /dev/null, which every skiff container has.
#include "common.h"

int main(void) {
  char buf[8];
  STAT("stat /dev/null", stat, "/dev/null");
  int fd = open("/dev/null", O_RDWR);
  CHECK("open O_RDWR", fd);
  VALUE("write", write(fd, "hello", 5));
  VALUE("read", read(fd, buf, sizeof buf));
  VALUE("pread", pread(fd, buf, sizeof buf, 0));
  STAT("fstat", fstat, fd);
  close(fd);
  fd = open("/dev/null", O_WRONLY | O_TRUNC);
  CHECK("open O_WRONLY|O_TRUNC", fd);
  VALUE("write after O_TRUNC", write(fd, "x", 1));
  close(fd);
  CHECK("O_CREAT|O_EXCL", open("/dev/null", O_WRONLY | O_CREAT | O_EXCL, 0644));
  CHECK("O_DIRECTORY", open("/dev/null", O_RDONLY | O_DIRECTORY));
  STAT("stat /dev/null/", stat, "/dev/null/");
  return 0;
}
