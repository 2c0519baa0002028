// dirs: mkdir, rmdir, unlink, readdir over many entries (small buffers,
// cookies, seekdir), rename within and across directories. Works in ./dirs.
#include <dirent.h>
#include <stdint.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#include "common.h"

#define MANY 300

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// Reads a directory with readdir; checks it holds f000..f(MANY-1), . and ..
static void check_listing(const char *label, DIR *d) {
  char *names[MANY + 8];
  int n = 0, dots = 0, other = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) dots++;
    else if (n < MANY + 8) names[n++] = strdup(e->d_name);
    else other++;
  }
  if (errno) printf("%s: readdir %s\n", label, errname(errno));
  qsort(names, (size_t)n, sizeof names[0], cmp);
  int ok = n == MANY && !other;
  for (int i = 0; ok && i < MANY; i++) {
    char want[8];
    snprintf(want, sizeof want, "f%03d", i);
    ok = !strcmp(names[i], want);
  }
  printf("%s: %d entries, dots %d, names %s\n", label, n, dots, ok ? "f000..f299" : "WRONG");
  for (int i = 0; i < n; i++) free(names[i]);
}

// fd_readdir with buffers that start too small for one entry: a host must
// fill the buffer and let the caller retry from the last whole entry's cookie.
static void raw_readdir(const char *path) {
#ifdef __wasi__
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  size_t size = 16, calls = 0;
  uint8_t *buf = malloc(4096);
  __wasi_dircookie_t cookie = 0;
  int entries = 0;
  for (;;) {
    __wasi_size_t used = 0;
    __wasi_errno_t err = __wasi_fd_readdir(fd, buf, size, cookie, &used);
    calls++;
    if (err) {
      printf("raw fd_readdir: %s\n", errname(err));
      return;
    }
    size_t off = 0;
    int whole = 0;
    while (off + sizeof(__wasi_dirent_t) <= used) {
      __wasi_dirent_t ent;
      memcpy(&ent, buf + off, sizeof ent);
      if (off + sizeof ent + ent.d_namlen > used) break;  // cut off: read it again
      off += sizeof ent + ent.d_namlen;
      cookie = ent.d_next;
      entries++, whole++;
    }
    if (used < size) break;  // the end of the directory
    if (!whole && size < 4096) size *= 2;
  }
  close(fd);
  free(buf);
  printf("raw fd_readdir from 16-byte buffers: %d entries\n", entries);
#else
  // Natively: the same count through readdir.
  DIR *d = opendir(path);
  int entries = 0;
  while (readdir(d)) entries++;
  closedir(d);
  printf("raw fd_readdir from 16-byte buffers: %d entries\n", entries);
#endif
}

int main(void) {
  mkdir_or_die("dirs");
  CHECK("mkdir", mkdir("dirs/d", 0755));
  CHECK("mkdir existing", mkdir("dirs/d", 0755));
  CHECK("mkdir in missing", mkdir("dirs/missing/x", 0755));
  put_file("dirs/file", "x");
  CHECK("mkdir in file", mkdir("dirs/file/x", 0755));
  CHECK("mkdir over file", mkdir("dirs/file", 0755));
  CHECK("mkdir trailing slash", mkdir("dirs/slash/", 0755));

  put_file("dirs/d/inside", "1");
  CHECK("rmdir non-empty", rmdir("dirs/d"));
  CHECK("rmdir file", rmdir("dirs/file"));
  CHECK("rmdir missing", rmdir("dirs/missing"));
  CHECK("rmdir dot", rmdir("dirs/slash/."));
  CHECK("unlink dir", unlink("dirs/d"));
  CHECK("unlink missing", unlink("dirs/missing"));
  CHECK("unlink file", unlink("dirs/d/inside"));
  STAT("stat unlinked", stat, "dirs/d/inside");
  CHECK("rmdir now empty", rmdir("dirs/d"));
  STAT("stat removed dir", stat, "dirs/d");

  // Many entries.
  mkdir_or_die("dirs/many");
  for (int i = 0; i < MANY; i++) {
    char p[32];
    snprintf(p, sizeof p, "dirs/many/f%03d", i);
    put_file(p, "");
  }
  DIR *d = opendir("dirs/many");
  check_listing("readdir", d);
  rewinddir(d);
  check_listing("after rewinddir", d);
  // seekdir back to a position read before gives the same names from there.
  rewinddir(d);
  for (int i = 0; i < 100; i++) readdir(d);
  long pos = telldir(d);
  char after[3][64];
  for (int i = 0; i < 3; i++) {
    struct dirent *e = readdir(d);
    snprintf(after[i], sizeof after[i], "%s", e ? e->d_name : "(end)");
  }
  for (int i = 0; i < 50; i++) readdir(d);
  seekdir(d, pos);
  int same = 1;
  for (int i = 0; i < 3; i++) {
    struct dirent *e = readdir(d);
    same = same && e && !strcmp(e->d_name, after[i]);
  }
  printf("seekdir to a telldir position: %s\n", same ? "same entries" : "DIFFERENT");
  closedir(d);
  raw_readdir("dirs/many");

  // rename
  mkdir_or_die("dirs/a");
  mkdir_or_die("dirs/b");
  put_file("dirs/a/f", "from a");
  CHECK("rename across dirs", rename("dirs/a/f", "dirs/b/g"));
  STAT("old name", stat, "dirs/a/f");
  printf("new name: %s\n", file_text("dirs/b/g"));
  put_file("dirs/a/h", "replacement");
  CHECK("rename over file", rename("dirs/a/h", "dirs/b/g"));
  printf("replaced: %s\n", file_text("dirs/b/g"));
  CHECK("rename to itself", rename("dirs/b/g", "dirs/b/g"));
  CHECK("rename missing", rename("dirs/a/nothing", "dirs/b/x"));
  mkdir_or_die("dirs/empty");
  mkdir_or_die("dirs/full");
  put_file("dirs/full/x", "");
  mkdir_or_die("dirs/src");
  put_file("dirs/src/kept", "kept");
  CHECK("rename dir over empty dir", rename("dirs/src", "dirs/empty"));
  printf("moved dir content: %s\n", file_text("dirs/empty/kept"));
  CHECK("rename dir over non-empty dir", rename("dirs/empty", "dirs/full"));
  CHECK("rename file over dir", rename("dirs/b/g", "dirs/full"));
  CHECK("rename dir over file", rename("dirs/full", "dirs/b/g"));
  CHECK("rename dir into itself", rename("dirs/full", "dirs/full/sub"));
  CHECK("rename into missing dir", rename("dirs/b/g", "dirs/nowhere/g"));
  CHECK("rename dir with trailing slash", rename("dirs/full/", "dirs/full2/"));
  CHECK("rename file with trailing slash", rename("dirs/b/g", "dirs/b/g2/"));
  return 0;
}
