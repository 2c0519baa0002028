// Helpers shared by the WASI test programs: each check prints one line,
// "label: result", with errno as its name so expected outputs read well.
// The programs also build natively (the tests check the expected outputs
// against Linux), so nothing here is WASI-only unless marked.
#ifndef TEST_PROGRAMS_COMMON_H
#define TEST_PROGRAMS_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((unused)) static const char *errname(int e) {
  // An if-chain, not a switch: some names share a value (ENOTSUP, EOPNOTSUPP).
  static const struct {
    int value;
    const char *name;
  } names[] = {
      {0, "ok"},
      {E2BIG, "E2BIG"},
      {EACCES, "EACCES"},
      {EADDRINUSE, "EADDRINUSE"},
      {EAGAIN, "EAGAIN"},
      {EBADF, "EBADF"},
      {EBUSY, "EBUSY"},
      {ECONNREFUSED, "ECONNREFUSED"},
      {EEXIST, "EEXIST"},
      {EFAULT, "EFAULT"},
      {EFBIG, "EFBIG"},
      {EINTR, "EINTR"},
      {EINVAL, "EINVAL"},
      {EIO, "EIO"},
      {EISDIR, "EISDIR"},
      {ELOOP, "ELOOP"},
      {EMFILE, "EMFILE"},
      {EMLINK, "EMLINK"},
      {ENAMETOOLONG, "ENAMETOOLONG"},
      {ENOBUFS, "ENOBUFS"},
      {ENFILE, "ENFILE"},
      {ENODEV, "ENODEV"},
      {ENOENT, "ENOENT"},
      {ENOMEM, "ENOMEM"},
      {ENOSPC, "ENOSPC"},
      {ENOSYS, "ENOSYS"},
      {ENOTCONN, "ENOTCONN"},
      {ENOTDIR, "ENOTDIR"},
      {ENOTEMPTY, "ENOTEMPTY"},
      {ENOTSOCK, "ENOTSOCK"},
      {ENOTSUP, "ENOTSUP"},
      {ENOTTY, "ENOTTY"},
      {ENXIO, "ENXIO"},
      {EPERM, "EPERM"},
      {EPIPE, "EPIPE"},
      {ERANGE, "ERANGE"},
      {EROFS, "EROFS"},
      {ESPIPE, "ESPIPE"},
      {EXDEV, "EXDEV"},
#ifdef ENOTCAPABLE
      {ENOTCAPABLE, "ENOTCAPABLE"},
#endif
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].value == e) return names[i].name;
  static char other[32];
  snprintf(other, sizeof other, "errno %d", e);
  return other;
}

// "label: ok" when the call returned >= 0, "label: ENAME" otherwise.
#define CHECK(label, call)                                            \
  do {                                                                \
    errno = 0;                                                        \
    long check_r_ = (long)(call);                                     \
    printf("%s: %s\n", (label), check_r_ < 0 ? errname(errno) : "ok"); \
  } while (0)

// "label: VALUE" when the call returned >= 0, "label: ENAME" otherwise.
#define VALUE(label, call)                                \
  do {                                                    \
    errno = 0;                                            \
    long value_r_ = (long)(call);                         \
    if (value_r_ < 0) printf("%s: %s\n", (label), errname(errno)); \
    else printf("%s: %ld\n", (label), value_r_);          \
  } while (0)

__attribute__((unused)) static const char *type_name(mode_t m) {
  return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : S_ISCHR(m) ? "chardev" : S_ISBLK(m) ? "blockdev"
         : S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : "unknown";
}

// "label: type=file size=N nlink=N" (no size or links for directories,
// which differ between file systems).
__attribute__((unused)) static void show_stat(const char *label, int r, const struct stat *st) {
  if (r < 0) {
    printf("%s: %s\n", label, errname(errno));
    return;
  }
  if (S_ISDIR(st->st_mode)) printf("%s: type=dir\n", label);
  else if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode))
    printf("%s: type=%s size=%lld nlink=%lu\n", label, type_name(st->st_mode), (long long)st->st_size, (unsigned long)st->st_nlink);
  else printf("%s: type=%s\n", label, type_name(st->st_mode));
}

#define STAT(label, fn, ...)            \
  do {                                  \
    struct stat st_;                    \
    errno = 0;                          \
    int st_r_ = fn(__VA_ARGS__, &st_);  \
    show_stat((label), st_r_, &st_);    \
  } while (0)

// Writes a whole file; exits on failure (fixtures, not checks).
__attribute__((unused)) static void put_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data) || close(fd) != 0) {
    printf("fixture %s: %s\n", path, errname(errno));
    exit(99);
  }
}

// The content of a file as printable text ("\0" for zero bytes), or the errno name.
__attribute__((unused)) static const char *file_text(const char *path) {
  static char out[512];
  char buf[128];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return errname(errno);
  ssize_t n = read(fd, buf, sizeof buf);
  int e = errno;
  close(fd);
  if (n < 0) return errname(e);
  size_t o = 0;
  for (ssize_t i = 0; i < n && o + 3 < sizeof out; i++) {
    if (buf[i] == 0) out[o++] = '\\', out[o++] = '0';
    else if (buf[i] == '\n') out[o++] = '\\', out[o++] = 'n';
    else out[o++] = buf[i];
  }
  out[o] = 0;
  return out;
}

__attribute__((unused)) static void mkdir_or_die(const char *path) {
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    printf("fixture mkdir %s: %s\n", path, errname(errno));
    exit(99);
  }
}

#endif
