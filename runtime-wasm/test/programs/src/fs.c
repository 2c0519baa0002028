// fs: open flags, read/write/seek, pread/pwrite, ftruncate, stat family and
// file times. Works in ./fs (the test's root is its working directory).
#include <time.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#include "common.h"

// Two checks go to WASI directly: this wasi-libc (2022) answers them itself
// before any syscall (it turns "" into "." and refuses UTIME_NOW), and the
// host is what is under test. Natively: the libc calls that mean the same.
static int stat_empty_path(int dirfd, struct stat *st) {
#ifdef __wasi__
  __wasi_filestat_t fs;
  __wasi_errno_t e = __wasi_path_filestat_get(dirfd, 0, "", &fs);
  if (e) return errno = e, -1;
  st->st_mode = fs.filetype == __WASI_FILETYPE_DIRECTORY ? S_IFDIR : S_IFREG;
  st->st_size = (off_t)fs.size;
  st->st_nlink = (nlink_t)fs.nlink;
  return 0;
#else
  return fstatat(dirfd, "", st, 0);
#endif
}

static int atime_now(int fd) {
#ifdef __wasi__
  __wasi_errno_t e = __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW);
  return e ? (errno = e, -1) : 0;
#else
  struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  return futimens(fd, t);
#endif
}

static void show_pos(const char *label, int fd) { VALUE(label, lseek(fd, 0, SEEK_CUR)); }

static void show_times(const char *label, const char *path, int nofollow) {
  struct stat st;
  if ((nofollow ? lstat : stat)(path, &st) != 0) {
    printf("%s: %s\n", label, errname(errno));
    return;
  }
  printf("%s: atime=%lld.%09ld mtime=%lld.%09ld\n", label, (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(void) {
  mkdir_or_die("fs");
  char buf[64];

  // open: O_CREAT, O_EXCL
  int fd = open("fs/a", O_WRONLY | O_CREAT | O_EXCL, 0644);
  CHECK("open O_CREAT|O_EXCL new", fd);
  CHECK("open O_CREAT|O_EXCL existing", open("fs/a", O_WRONLY | O_CREAT | O_EXCL, 0644));
  CHECK("open missing", open("fs/missing", O_RDONLY));
  CHECK("open O_CREAT in missing dir", open("fs/nodir/x", O_WRONLY | O_CREAT, 0644));
  CHECK("open file as dir", open("fs/a/x", O_RDONLY));

  // write, seek, holes
  VALUE("write", write(fd, "hello world", 11));
  show_pos("offset after write", fd);
  VALUE("lseek SEEK_SET 6", lseek(fd, 6, SEEK_SET));
  VALUE("write at 6", write(fd, "WORLD", 5));
  VALUE("lseek SEEK_END", lseek(fd, 0, SEEK_END));
  VALUE("lseek SEEK_CUR -5", lseek(fd, -5, SEEK_CUR));
  VALUE("lseek SEEK_SET 20", lseek(fd, 20, SEEK_SET));
  VALUE("write past end", write(fd, "!", 1));
  VALUE("lseek negative", lseek(fd, -1, SEEK_SET));
  STAT("fstat", fstat, fd);
  VALUE("read on O_WRONLY", read(fd, buf, 4));
  CHECK("close", close(fd));
  CHECK("close again", close(fd));
  printf("content: %s\n", file_text("fs/a"));

  // read, pread, pwrite
  fd = open("fs/a", O_RDONLY);
  CHECK("open O_RDONLY", fd);
  VALUE("read 5", read(fd, buf, 5));
  VALUE("pread 5 at 6", pread(fd, buf, 5, 6));
  printf("pread data: %.5s\n", buf);
  show_pos("offset after pread", fd);
  VALUE("pread past end", pread(fd, buf, 5, 100));
  VALUE("write on O_RDONLY", write(fd, "x", 1));
  VALUE("pwrite on O_RDONLY", pwrite(fd, "x", 1, 0));
  VALUE("read to end", read(fd, buf, sizeof buf));
  VALUE("read at end", read(fd, buf, sizeof buf));
  close(fd);

  fd = open("fs/a", O_RDWR);
  VALUE("pwrite 2 at 1", pwrite(fd, "XY", 2, 1));
  show_pos("offset after pwrite", fd);
  VALUE("pwrite past end", pwrite(fd, "Z", 1, 25));
  STAT("size after pwrite past end", fstat, fd);

  // ftruncate
  CHECK("ftruncate 3", ftruncate(fd, 3));
  STAT("after ftruncate 3", fstat, fd);
  CHECK("ftruncate 6", ftruncate(fd, 6));
  printf("content: %s\n", file_text("fs/a"));
  CHECK("ftruncate negative", ftruncate(fd, -1));
  close(fd);
  fd = open("fs/a", O_RDONLY);
  CHECK("ftruncate on O_RDONLY", ftruncate(fd, 0));
  close(fd);

  // O_TRUNC, O_APPEND
  fd = open("fs/a", O_WRONLY | O_TRUNC);
  CHECK("open O_TRUNC", fd);
  STAT("after O_TRUNC", fstat, fd);
  close(fd);
  fd = open("fs/a", O_WRONLY | O_APPEND);
  VALUE("append one", write(fd, "one", 3));
  VALUE("lseek 0 in append mode", lseek(fd, 0, SEEK_SET));
  VALUE("append two", write(fd, "two", 3));
  show_pos("offset after append", fd);
  close(fd);
  printf("content: %s\n", file_text("fs/a"));

  // O_DIRECTORY, directories as files
  mkdir_or_die("fs/d");
  CHECK("O_DIRECTORY on file", open("fs/a", O_RDONLY | O_DIRECTORY));
  fd = open("fs/d", O_RDONLY | O_DIRECTORY);
  CHECK("O_DIRECTORY on dir", fd);
  close(fd);
  fd = open("fs/d", O_RDONLY);
  CHECK("open dir O_RDONLY", fd);
  VALUE("read on dir", read(fd, buf, sizeof buf));
  close(fd);
  CHECK("open dir O_WRONLY", open("fs/d", O_WRONLY));
  CHECK("open dir O_RDWR", open("fs/d", O_RDWR));
  CHECK("open dir O_CREAT", open("fs/d", O_WRONLY | O_CREAT, 0644));

  // O_NOFOLLOW, symlinks
  CHECK("symlink fs/link -> a", symlink("a", "fs/link"));
  CHECK("O_NOFOLLOW on symlink", open("fs/link", O_RDONLY | O_NOFOLLOW));
  fd = open("fs/a", O_RDONLY | O_NOFOLLOW);
  CHECK("O_NOFOLLOW on file", fd);
  close(fd);
  fd = open("fs/link", O_RDONLY);
  CHECK("open through symlink", fd);
  VALUE("read through symlink", read(fd, buf, sizeof buf));
  close(fd);
  CHECK("symlink fs/dangling -> created", symlink("created", "fs/dangling"));
  CHECK("O_CREAT|O_EXCL on dangling symlink", open("fs/dangling", O_WRONLY | O_CREAT | O_EXCL, 0644));
  fd = open("fs/dangling", O_WRONLY | O_CREAT, 0644);
  CHECK("O_CREAT through dangling symlink", fd);
  close(fd);
  STAT("target it created", lstat, "fs/created");

  // stat, lstat, fstat
  STAT("stat file", stat, "fs/a");
  STAT("stat dir", stat, "fs/d");
  STAT("stat symlink", stat, "fs/link");
  STAT("lstat symlink", lstat, "fs/link");
  STAT("lstat file", lstat, "fs/a");
  STAT("stat missing", stat, "fs/missing");
  STAT("stat file/", stat, "fs/a/");
  STAT("stat dir/", stat, "fs/d/");
  STAT("stat dir/.", stat, "fs/d/.");
  STAT("stat dir/..", stat, "fs/d/..");
  fd = open(".", O_RDONLY | O_DIRECTORY);
  STAT("stat empty path", stat_empty_path, fd);
  close(fd);
  fd = open("fs/d", O_RDONLY | O_DIRECTORY);
  STAT("fstat dir", fstat, fd);
  close(fd);
  STAT("fstat bad fd", fstat, 1234);

  // utimensat, futimens
  struct timespec t[2] = {{1000000000, 123456789}, {1234567890, 987654321}};
  CHECK("utimensat", utimensat(AT_FDCWD, "fs/a", t, 0));
  show_times("times", "fs/a", 0);
  fd = open("fs/a", O_RDWR);
  struct timespec t2[2] = {{0, UTIME_OMIT}, {2000000000, 500000000}};
  CHECK("futimens omit atime", futimens(fd, t2));
  show_times("times", "fs/a", 0);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  CHECK("futimens now atime", atime_now(fd));
  close(fd);
  struct stat st;
  stat("fs/a", &st);
  printf("atime now: %s\n", st.st_atim.tv_sec >= now.tv_sec - 2 && st.st_atim.tv_sec <= now.tv_sec + 60 ? "yes" : "no");
  printf("mtime kept: %s\n", st.st_mtim.tv_sec == 2000000000 ? "yes" : "no");
  struct timespec t4[2] = {{5, 0}, {6, 0}};
  CHECK("utimensat AT_SYMLINK_NOFOLLOW", utimensat(AT_FDCWD, "fs/link", t4, AT_SYMLINK_NOFOLLOW));
  show_times("link times", "fs/link", 1);
  printf("target mtime kept: %s\n", stat("fs/a", &st) == 0 && st.st_mtim.tv_sec == 2000000000 ? "yes" : "no");
  CHECK("utimensat missing", utimensat(AT_FDCWD, "fs/missing", t, 0));
  struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
  CHECK("utimensat bad nsec", utimensat(AT_FDCWD, "fs/a", bad, 0));
  return 0;
}
