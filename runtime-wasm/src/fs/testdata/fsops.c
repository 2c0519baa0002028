// A file-system script for tests: each argument is one operation, written
// `op:arg:arg`; each prints one line with its result or the errno's name.
// Built with: clang --target=wasm32-wasi -O2 -Wl,--strip-all -o fsops.wasm fsops.c
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *ename(int e) {
  switch (e) {
    case ENOENT: return "ENOENT"; case EEXIST: return "EEXIST"; case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR"; case ENOTEMPTY: return "ENOTEMPTY"; case ELOOP: return "ELOOP";
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EXDEV: return "EXDEV";
    case EROFS: return "EROFS"; case EPERM: return "EPERM"; case EACCES: return "EACCES";
    case ENAMETOOLONG: return "ENAMETOOLONG"; case EBUSY: return "EBUSY"; case ENOTCAPABLE: return "ENOTCAPABLE";
    case ENOTSUP: return "ENOTSUP"; case ENXIO: return "ENXIO";
    default: return "E?";
  }
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void put(const char *op, int r) { if (r < 0) printf("%s -> %s\n", op, ename(errno)); else printf("%s -> ok\n", op); }

static const char *kind(mode_t m) {
  return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : S_ISCHR(m) ? "chr" : "other";
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    char buf[4096];
    strncpy(buf, argv[i], sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    char *op = buf, *a = strchr(buf, ':'), *b = NULL;
    if (a) { *a++ = 0; b = strchr(a, ':'); if (b) *b++ = 0; }
    errno = 0;
    if (!strcmp(op, "cat")) {
      int fd = open(a, O_RDONLY);
      if (fd < 0) { printf("cat %s -> %s\n", a, ename(errno)); continue; }
      char data[256]; ssize_t n = read(fd, data, sizeof data - 1);
      if (n < 0) { printf("cat %s -> %s\n", a, ename(errno)); close(fd); continue; }
      data[n] = 0; printf("cat %s -> [%s]\n", a, data); close(fd);
    } else if (!strcmp(op, "write") || !strcmp(op, "append") || !strcmp(op, "excl")) {
      int flags = O_WRONLY | O_CREAT | (!strcmp(op, "append") ? O_APPEND : !strcmp(op, "excl") ? O_EXCL : O_TRUNC);
      int fd = open(a, flags, 0644);
      if (fd < 0) { printf("%s %s -> %s\n", op, a, ename(errno)); continue; }
      ssize_t n = write(fd, b ? b : "", b ? strlen(b) : 0);
      printf("%s %s -> %s\n", op, a, n < 0 ? ename(errno) : "ok"); close(fd);
    } else if (!strcmp(op, "mkdir")) { char o[512]; snprintf(o, sizeof o, "mkdir %s", a); put(o, mkdir(a, 0755));
    } else if (!strcmp(op, "rmdir")) { char o[512]; snprintf(o, sizeof o, "rmdir %s", a); put(o, rmdir(a));
    } else if (!strcmp(op, "unlink")) { char o[512]; snprintf(o, sizeof o, "unlink %s", a); put(o, unlink(a));
    } else if (!strcmp(op, "rename")) { char o[512]; snprintf(o, sizeof o, "rename %s %s", a, b); put(o, rename(a, b));
    } else if (!strcmp(op, "link")) { char o[512]; snprintf(o, sizeof o, "link %s %s", a, b); put(o, link(a, b));
    } else if (!strcmp(op, "symlink")) { char o[512]; snprintf(o, sizeof o, "symlink %s %s", a, b); put(o, symlink(a, b));
    } else if (!strcmp(op, "readlink")) {
      char t[512]; ssize_t n = readlink(a, t, sizeof t - 1);
      if (n < 0) printf("readlink %s -> %s\n", a, ename(errno)); else { t[n] = 0; printf("readlink %s -> %s\n", a, t); }
    } else if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
      struct stat st; int r = !strcmp(op, "stat") ? stat(a, &st) : lstat(a, &st);
      if (r < 0) printf("%s %s -> %s\n", op, a, ename(errno));
      else if (S_ISDIR(st.st_mode)) printf("%s %s -> dir\n", op, a);
      else printf("%s %s -> %s size=%lld nlink=%lld\n", op, a, kind(st.st_mode), (long long)st.st_size, (long long)st.st_nlink);
    } else if (!strcmp(op, "ls")) {
      DIR *d = opendir(a);
      if (!d) { printf("ls %s -> %s\n", a, ename(errno)); continue; }
      char *names[512]; int k = 0; struct dirent *e;
      // `.` and `..` left out: node:wasi (uvwasi) does not list them, wasmtime does.
      while ((e = readdir(d)) && k < 512)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[k++] = strdup(e->d_name);
      closedir(d);
      qsort(names, k, sizeof *names, cmp);
      printf("ls %s ->", a);
      for (int j = 0; j < k; j++) { printf(" %s", names[j]); free(names[j]); }
      printf("\n");
    } else if (!strcmp(op, "truncate")) { char o[512]; snprintf(o, sizeof o, "truncate %s %s", a, b); put(o, truncate(a, atoi(b)));
    } else if (!strcmp(op, "seekwrite")) {
      // write b at offset 4 past the end, then report the size
      int fd = open(a, O_RDWR);
      if (fd < 0) { printf("seekwrite %s -> %s\n", a, ename(errno)); continue; }
      off_t end = lseek(fd, 4, SEEK_END); write(fd, b, strlen(b));
      struct stat st; fstat(fd, &st); close(fd);
      printf("seekwrite %s -> at=%lld size=%lld\n", a, (long long)end, (long long)st.st_size);
    } else if (!strcmp(op, "mtime")) {
      // sets mtime to b seconds, reads it back
      struct timespec ts[2] = {{0, UTIME_OMIT}, {atoi(b), 0}};
      int r = utimensat(AT_FDCWD, a, ts, 0);
      struct stat st; stat(a, &st);
      if (r < 0) printf("mtime %s -> %s\n", a, ename(errno)); else printf("mtime %s -> %lld\n", a, (long long)st.st_mtim.tv_sec);
    } else if (!strcmp(op, "bench")) {
      // N files created, stat'ed, read and deleted in directory a
      int n = atoi(b); char p[512], data[64];
      for (int j = 0; j < n; j++) { snprintf(p, sizeof p, "%s/f%d", a, j); int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644); write(fd, "hello world, some file content\n", 31); close(fd); }
      struct stat st;
      for (int j = 0; j < n; j++) { snprintf(p, sizeof p, "%s/f%d", a, j); if (stat(p, &st) < 0 || st.st_size != 31) { printf("bench stat failed\n"); return 1; } }
      for (int j = 0; j < n; j++) { snprintf(p, sizeof p, "%s/f%d", a, j); int fd = open(p, O_RDONLY); if (read(fd, data, sizeof data) != 31) { printf("bench read failed\n"); return 1; } close(fd); }
      for (int j = 0; j < n; j++) { snprintf(p, sizeof p, "%s/f%d", a, j); if (unlink(p) < 0) { printf("bench unlink failed\n"); return 1; } }
      printf("bench %s %d -> ok\n", a, n);
    } else {
      printf("unknown op %s\n", op);
      return 2;
    }
  }
  return 0;
}
