// Applets that work on the file system: ls, stat, mkdir, rmdir, rm, touch,
// cp, mv, ln, pwd.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "toolbox.h"

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

// The names in a directory, without "." and "..", sorted; NULL on error.
static char **read_names(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (n == cap) names = tb_realloc(names, (cap = cap ? cap * 2 : 32) * sizeof *names);
    names[n++] = tb_strdup(e->d_name);
  }
  int err = errno;
  closedir(d);
  if (err) {
    for (size_t k = 0; k < n; k++) free(names[k]);
    free(names);
    errno = err;
    return NULL;
  }
  if (n) qsort(names, n, sizeof *names, cmp_names);
  *count = n;
  return names ? names : tb_alloc(sizeof *names);
}

static void free_names(char **names, size_t n) {
  for (size_t k = 0; k < n; k++) free(names[k]);
  free(names);
}

// WASI reports no permission bits; show the usual ones rather than none.
static unsigned perms(const struct stat *st) {
  unsigned p = st->st_mode & 07777;
  if (p) return p;
  return S_ISDIR(st->st_mode) ? 0755 : S_ISLNK(st->st_mode) ? 0777 : 0644;
}

static char type_char(mode_t m) {
  return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
}

static const char *type_name(mode_t m) {
  return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symbolic link" : S_ISCHR(m) ? "character device"
         : S_ISBLK(m) ? "block device" : S_ISFIFO(m) ? "fifo" : S_ISSOCK(m) ? "socket" : "unknown";
}

static void format_time(char *out, size_t n, time_t t) {
  struct tm tm;
  if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M", &tm)) snprintf(out, n, "%lld", (long long)t);
}

// One `ls -l` line: type and mode, links, size, modification time (UTC), name.
static void long_line(tb_ctx *c, const char *path, const char *shown, const struct stat *st) {
  char mode[11], when[32];
  unsigned p = perms(st);
  mode[0] = type_char(st->st_mode);
  for (int k = 0; k < 9; k++) mode[1 + k] = (p & (0400u >> k)) ? "rwxrwxrwx"[k] : '-';
  mode[10] = 0;
  format_time(when, sizeof when, st->st_mtime);
  tb_printf(c->out, "%s %2lu %8lld %s %s", mode, (unsigned long)st->st_nlink, (long long)st->st_size, when, shown);
  if (S_ISLNK(st->st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n >= 0) target[n] = 0, tb_printf(c->out, " -> %s", target);
  }
  tb_write(c->out, "\n", 1);
}

static int list_dir(tb_ctx *c, const tb_opts *o, const char *dir) {
  size_t n;
  char **names = read_names(dir, &n);
  if (!names) return tb_fail(c, "ls", dir, errno), 2;
  int status = 0;
  if (o->on['a']) {
    for (int k = 0; k < 2; k++) {
      const char *dot = k ? ".." : ".";
      struct stat st;
      char *path = tb_path_join(dir, dot);
      if (!o->on['l']) tb_printf(c->out, "%s\n", dot);
      else if (lstat(path, &st) == 0) long_line(c, path, dot, &st);
      free(path);
    }
  }
  for (size_t k = 0; k < n; k++) {
    if (names[k][0] == '.' && !o->on['a']) continue;
    if (!o->on['l']) {
      tb_printf(c->out, "%s\n", names[k]);
      continue;
    }
    char *path = tb_path_join(dir, names[k]);
    struct stat st;
    if (lstat(path, &st) == 0) long_line(c, path, names[k], &st);
    else status = tb_fail(c, "ls", path, errno);
    free(path);
  }
  free_names(names, n);
  return status;
}

// ls [-la1] [PATH...]: one name a line, sorted; files first, then directories.
int applet_ls(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "la1", &o);
  if (i < 0) return 2;
  char *here[] = {"."};
  char **ops = i < argc ? argv + i : here;
  int n = i < argc ? argc - i : 1, status = 0, shown = 0;
  char **sorted = tb_alloc(sizeof(char *) * (size_t)n);
  memcpy(sorted, ops, sizeof(char *) * (size_t)n);
  qsort(sorted, (size_t)n, sizeof *sorted, cmp_names);
  int *is_dir = tb_alloc(sizeof(int) * (size_t)n);
  for (int k = 0; k < n; k++) {
    struct stat st;
    // -l shows a link itself; otherwise a link to a directory is listed.
    if ((o.on['l'] ? lstat : stat)(sorted[k], &st) != 0) {
      tb_fail(c, "ls", sorted[k], errno);
      status = 2;
      is_dir[k] = -1;
      continue;
    }
    is_dir[k] = S_ISDIR(st.st_mode);
    if (is_dir[k]) continue;
    if (o.on['l']) long_line(c, sorted[k], sorted[k], &st);
    else tb_printf(c->out, "%s\n", sorted[k]);
    shown++;
  }
  for (int k = 0; k < n; k++) {
    if (is_dir[k] != 1) continue;
    if (n > 1) tb_printf(c->out, "%s%s:\n", shown++ ? "\n" : "", sorted[k]);
    int r = list_dir(c, &o, sorted[k]);
    if (r > status) status = r;
  }
  free(sorted);
  free(is_dir);
  return status;
}

// stat [-L] PATH...: type, size, mode, links and times, one per line.
int applet_stat(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "L", &o);
  if (i < 0) return 2;
  if (i == argc) {
    tb_puts(c->err, "stat: missing operand\n");
    return 1;
  }
  int status = 0;
  for (; i < argc; i++) {
    struct stat st;
    if ((o.on['L'] ? stat : lstat)(argv[i], &st) != 0) {
      status = tb_fail(c, "stat", argv[i], errno);
      continue;
    }
    char when[32];
    format_time(when, sizeof when, st.st_mtime);
    tb_printf(c->out, "File: %s\nType: %s\nSize: %lld\nMode: %04o\nLinks: %lu\nInode: %llu\nModify: %s\n", argv[i],
              type_name(st.st_mode), (long long)st.st_size, perms(&st), (unsigned long)st.st_nlink,
              (unsigned long long)st.st_ino, when);
  }
  return status;
}

static int make_parents(const char *path) {
  char *p = tb_strdup(path);
  int r = 0;
  for (char *s = p + 1;; s++) {
    if (*s != '/' && *s) continue;
    char keep = *s;
    *s = 0;
    struct stat st;
    if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
      if (errno == EEXIST) errno = ENOTDIR;
      r = -1;
      break;
    }
    *s = keep;
    if (!keep) break;
  }
  free(p);
  return r;
}

// mkdir [-p] DIR...
int applet_mkdir(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "p", &o);
  if (i < 0) return 2;
  if (i == argc) {
    tb_puts(c->err, "mkdir: missing operand\n");
    return 1;
  }
  int status = 0;
  for (; i < argc; i++)
    if ((o.on['p'] ? make_parents(argv[i]) : mkdir(argv[i], 0777)) != 0) status = tb_fail(c, "mkdir", argv[i], errno);
  return status;
}

int applet_rmdir(tb_ctx *c, int argc, char **argv) {
  int status = 0;
  if (argc < 2) {
    tb_puts(c->err, "rmdir: missing operand\n");
    return 1;
  }
  for (int i = 1; i < argc; i++)
    if (rmdir(argv[i]) != 0) status = tb_fail(c, "rmdir", argv[i], errno);
  return status;
}

int tb_remove_tree(tb_ctx *c, const char *applet, const char *path, int force) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (force && errno == ENOENT) return 0;
    return tb_fail(c, applet, path, errno), errno;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) != 0) return tb_fail(c, applet, path, errno), errno;
    return 0;
  }
  // Read the whole directory first: removing while reading may skip entries.
  size_t n;
  char **names = read_names(path, &n);
  if (!names) return tb_fail(c, applet, path, errno), errno;
  int err = 0;
  for (size_t k = 0; k < n; k++) {
    char *child = tb_path_join(path, names[k]);
    int r = tb_remove_tree(c, applet, child, force);
    if (r) err = r;
    free(child);
  }
  free_names(names, n);
  if (!err && rmdir(path) != 0) err = errno, tb_fail(c, applet, path, errno);
  return err;
}

// rm [-rf] PATH...
int applet_rm(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "rRf", &o);
  if (i < 0) return 2;
  int recursive = o.on['r'] || o.on['R'], force = o.on['f'], status = 0;
  if (i == argc && !force) {
    tb_puts(c->err, "rm: missing operand\n");
    return 1;
  }
  for (; i < argc; i++) {
    const char *base = tb_basename(argv[i]);
    size_t blen = strcspn(base, "/");
    if ((blen == 1 && base[0] == '.') || (blen == 2 && base[0] == '.' && base[1] == '.')) {
      tb_printf(c->err, "rm: refusing to remove '.' or '..' directory: '%s'\n", argv[i]);
      status = 1;
      continue;
    }
    struct stat st;
    if (lstat(argv[i], &st) != 0) {
      if (!(force && errno == ENOENT)) status = tb_fail(c, "rm", argv[i], errno);
      continue;
    }
    if (S_ISDIR(st.st_mode) && !recursive) {
      status = tb_fail(c, "rm", argv[i], EISDIR);
      continue;
    }
    if (tb_remove_tree(c, "rm", argv[i], force)) status = 1;
  }
  return status;
}

// touch FILE...: creates files, or sets their times to now.
int applet_touch(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "c", &o);
  if (i < 0) return 2;
  if (i == argc) {
    tb_puts(c->err, "touch: missing file operand\n");
    return 1;
  }
  // The current time, given explicitly: this wasi-libc (2022) turns
  // utimensat(path, NULL) into time 0 and refuses UTIME_NOW.
  struct timespec now[2];
  clock_gettime(CLOCK_REALTIME, &now[0]);
  now[1] = now[0];
  int status = 0;
  for (; i < argc; i++) {
    if (utimensat(AT_FDCWD, argv[i], now, 0) == 0) continue;
    if (errno != ENOENT || o.on['c']) {
      if (errno != ENOENT) status = tb_fail(c, "touch", argv[i], errno);
      continue;
    }
    int fd = open(argv[i], O_WRONLY | O_CREAT, 0666);
    if (fd < 0) status = tb_fail(c, "touch", argv[i], errno);
    else close(fd);
  }
  return status;
}

static int copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY);
  if (in < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (out < 0) {
    int e = errno;
    close(in);
    errno = e;
    return -1;
  }
  char *buf = tb_alloc(65536);
  ssize_t r = 0;
  int err = 0;
  while (!err && (r = read(in, buf, 65536)) > 0)
    for (ssize_t off = 0; off < r;) {
      ssize_t w = write(out, buf + off, (size_t)(r - off));
      if (w < 0) {
        err = errno;
        break;
      }
      off += w;
    }
  if (r < 0) err = errno;
  free(buf);
  close(in);
  if (close(out) != 0 && !err) err = errno;
  errno = err;
  return err ? -1 : 0;
}

int tb_copy(tb_ctx *c, const char *applet, const char *from, const char *to, int recursive) {
  struct stat st;
  if ((recursive ? lstat : stat)(from, &st) != 0) return tb_fail(c, applet, from, errno), errno;
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(from, target, sizeof target - 1);
    if (n < 0) return tb_fail(c, applet, from, errno), errno;
    target[n] = 0;
    if (symlink(target, to) != 0) return tb_fail(c, applet, to, errno), errno;
    return 0;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (copy_file(from, to) != 0) return tb_fail(c, applet, to, errno), errno;
    return 0;
  }
  if (!recursive) {
    tb_printf(c->err, "%s: -r not specified; omitting directory '%s'\n", applet, from);
    return EISDIR;
  }
  struct stat dst;
  if (mkdir(to, 0777) != 0 && !(errno == EEXIST && stat(to, &dst) == 0 && S_ISDIR(dst.st_mode)))
    return tb_fail(c, applet, to, errno), errno;
  size_t n;
  char **names = read_names(from, &n);
  if (!names) return tb_fail(c, applet, from, errno), errno;
  int err = 0;
  for (size_t k = 0; k < n; k++) {
    char *a = tb_path_join(from, names[k]), *b = tb_path_join(to, names[k]);
    int r = tb_copy(c, applet, a, b, recursive);
    if (r) err = r;
    free(a), free(b);
  }
  free_names(names, n);
  return err;
}

// The destination of SRC when DEST may be a directory to put it in.
static char *target_path(const char *src, const char *dest, int many) {
  struct stat st;
  if (many || (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))) {
    char *base = tb_strdup(tb_basename(src));
    size_t n = strlen(base);
    while (n > 1 && base[n - 1] == '/') base[--n] = 0;
    char *p = tb_path_join(dest, base);
    free(base);
    return p;
  }
  return tb_strdup(dest);
}

static int two_or_more(tb_ctx *c, const char *applet, int operands) {
  if (operands >= 2) return 1;
  tb_printf(c->err, "%s: missing %s operand\n", applet, operands ? "destination file" : "file");
  return 0;
}

// cp [-r] SRC DEST | cp [-r] SRC... DIR
int applet_cp(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "rRa", &o);
  if (i < 0) return 2;
  if (!two_or_more(c, "cp", argc - i)) return 1;
  int status = 0, many = argc - i > 2;
  for (int k = i; k < argc - 1; k++) {
    char *to = target_path(argv[k], argv[argc - 1], many);
    if (tb_copy(c, "cp", argv[k], to, o.on['r'] || o.on['R'] || o.on['a'])) status = 1;
    free(to);
  }
  return status;
}

// mv SRC DEST | mv SRC... DIR; copies and removes across file systems.
int applet_mv(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "f", &o);
  if (i < 0) return 2;
  if (!two_or_more(c, "mv", argc - i)) return 1;
  int status = 0, many = argc - i > 2;
  for (int k = i; k < argc - 1; k++) {
    char *to = target_path(argv[k], argv[argc - 1], many);
    if (rename(argv[k], to) != 0) {
      if (errno != EXDEV) status = tb_fail(c, "mv", argv[k], errno);
      else if (tb_copy(c, "mv", argv[k], to, 1) || tb_remove_tree(c, "mv", argv[k], 0)) status = 1;
    }
    free(to);
  }
  return status;
}

// ln [-sf] TARGET [LINK | DIR]
int applet_ln(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "sf", &o);
  if (i < 0) return 2;
  if (argc - i < 1 || argc - i > 2) {
    tb_puts(c->err, "usage: ln [-sf] TARGET [LINK]\n");
    return 1;
  }
  const char *target = argv[i];
  char *link_path = argc - i == 2 ? target_path(target, argv[i + 1], 0) : tb_strdup(tb_basename(target));
  if (o.on['f']) unlink(link_path);
  int r = o.on['s'] ? symlink(target, link_path) : link(target, link_path);
  int status = r != 0 ? tb_fail(c, "ln", link_path, errno) : 0;
  free(link_path);
  return status;
}

int applet_pwd(tb_ctx *c, int argc, char **argv) {
  (void)argc, (void)argv;
  char buf[PATH_MAX];
  if (!getcwd(buf, sizeof buf)) return tb_fail(c, "pwd", ".", errno);
  tb_printf(c->out, "%s\n", buf);
  return 0;
}
