/*
 * What Node cannot do while unpacking and exporting layers:
 *
 * `skiff-runtime apply-special DIR` reads NUL-separated records on stdin and
 * makes, below DIR (never outside it, whatever symlinks say):
 *   w PATH                          an overlayfs whiteout (char device 0/0)
 *   o PATH                          an opaque directory (trusted.overlay.opaque=y)
 *   c|b PATH MODE MAJOR MINOR UID GID   a device node
 *   p PATH MODE UID GID             a FIFO
 *   x PATH NAME HEXVALUE            an extended attribute
 * `skiff-runtime list-opaque DIR` prints the opaque directories below DIR, NUL-separated.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"

static int open_below(int rootfd, const char *path, int flags) {
  struct open_how how = { .flags = (unsigned long long)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* The parent directory of path below rootfd, and the last component. */
static int parent_of(int rootfd, const char *path, char *base, size_t cap, serr_t *e) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", path);
  char *slash = strrchr(copy, '/');
  const char *dir = ".";
  const char *name = copy;
  if (slash) { *slash = 0; dir = copy[0] ? copy : "/"; name = slash + 1; }
  if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) return fail(e, "apply-special", EINVAL, "bad entry path %s", path);
  snprintf(base, cap, "%s", name);
  int fd = open_below(rootfd, dir, O_PATH | O_DIRECTORY);
  if (fd < 0) return fail(e, "apply-special", errno, "open the directory of %s", path);
  return fd;
}

static int set_xattr_at(int rootfd, const char *path, const char *name, const void *val, size_t len, serr_t *e) {
  int fd = open_below(rootfd, path, O_PATH | O_NOFOLLOW);
  if (fd < 0) return fail(e, "apply-special", errno, "open %s", path);
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  int rc = setxattr(p, name, val, len, 0);
  int err = errno;
  close(fd);
  /* Symlinks cannot carry user.* attributes; the kernel says EPERM, as GNU tar reports and skips. */
  if (rc < 0) return fail(e, "apply-special", err, "setxattr %s on %s", name, path);
  return 0;
}

static int unhex(const char *s, unsigned char *out, size_t cap, size_t *len) {
  size_t n = strlen(s);
  if (n % 2 || n / 2 > cap) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (unsigned char)v;
  }
  *len = n / 2;
  return 0;
}

static int apply_record(int rootfd, char **f, int nf, serr_t *e) {
  char kind = f[0][0];
  char base[4096];
  if (kind == 'o') {
    if (nf < 2) return fail(e, "apply-special", EINVAL, "short record");
    return set_xattr_at(rootfd, f[1], "trusted.overlay.opaque", "y", 1, e);
  }
  if (kind == 'x') {
    if (nf < 4) return fail(e, "apply-special", EINVAL, "short record");
    static unsigned char val[65536];
    size_t len;
    if (unhex(f[3], val, sizeof val, &len) < 0) return fail(e, "apply-special", EINVAL, "bad xattr value for %s", f[1]);
    return set_xattr_at(rootfd, f[1], f[2], val, len, e);
  }
  if (kind != 'w' && kind != 'c' && kind != 'b' && kind != 'p') return fail(e, "apply-special", EINVAL, "unknown record kind '%c'", kind);
  int need = kind == 'w' ? 2 : kind == 'p' ? 5 : 7;
  if (nf < need) return fail(e, "apply-special", EINVAL, "short record for %s", nf > 1 ? f[1] : "?");
  int dfd = parent_of(rootfd, f[1], base, sizeof base, e);
  if (dfd < 0) return -1;
  mode_t mode = 0;
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (kind == 'w') mode = S_IFCHR;
  else if (kind == 'p') { mode = S_IFIFO | (strtoul(f[2], NULL, 8) & 07777); uid = atoi(f[3]); gid = atoi(f[4]); }
  else {
    mode = (kind == 'b' ? S_IFBLK : S_IFCHR) | (strtoul(f[2], NULL, 8) & 07777);
    dev = makedev(strtoul(f[3], NULL, 10), strtoul(f[4], NULL, 10));
    uid = atoi(f[5]);
    gid = atoi(f[6]);
  }
  /* A later entry replaces an earlier one of the same name, as in tar. */
  unlinkat(dfd, base, 0);
  int rc = mknodat(dfd, base, mode, dev);
  if (rc == 0 && kind != 'w') rc = fchownat(dfd, base, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (rc == 0 && kind != 'w') rc = fchmodat(dfd, base, mode & 07777, 0);
  int err = errno;
  close(dfd);
  if (rc < 0) return fail(e, "apply-special", err, "mknod %s", f[1]);
  return 0;
}

int cmd_apply_special(int argc, char **argv) {
  serr_t e = {0};
  char out[4096];
  if (argc != 1) return usage_error("apply-special", argc ? argv[1] : "(no directory)");
  int rootfd = open(argv[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) { fail(&e, "apply-special", errno, "open %s", argv[0]); format_error_json(out, sizeof out, &e); fputs(out, stderr); return 1; }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len == cap) { cap *= 2; buf = realloc(buf, cap); if (!buf) return 1; }
    ssize_t r = read(0, buf + len, cap - len);
    if (r < 0) { if (errno == EINTR) continue; fail(&e, "apply-special", errno, "read stdin"); break; }
    if (r == 0) break;
    len += (size_t)r;
  }
  /* Records: a kind field, then as many fields as it takes. */
  char *fields[8];
  size_t i = 0;
  while (!e.msg[0] && i < len) {
    int nf = 0;
    char kind = buf[i];
    int need = kind == 'w' || kind == 'o' ? 2 : kind == 'x' ? 4 : kind == 'p' ? 5 : 7;
    while (nf < need && i < len) {
      fields[nf++] = buf + i;
      char *z = memchr(buf + i, 0, len - i);
      if (!z) { fail(&e, "apply-special", EINVAL, "a record is not NUL-terminated"); break; }
      i = (size_t)(z - buf) + 1;
    }
    if (e.msg[0]) break;
    if (apply_record(rootfd, fields, nf, &e) < 0) break;
  }
  if (e.msg[0]) { format_error_json(out, sizeof out, &e); fputs(out, stderr); return 1; }
  return 0;
}

static size_t list_root_len;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_D) return 0;
  char v[8];
  ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof v);
  if (n == 1 && v[0] == 'y') {
    const char *rel = path + list_root_len;
    while (*rel == '/') rel++;
    fwrite(rel, 1, strlen(rel) + 1, stdout);
  }
  return 0;
}

int cmd_list_opaque(int argc, char **argv) {
  if (argc != 1) return usage_error("list-opaque", argc ? argv[1] : "(no directory)");
  list_root_len = strlen(argv[0]);
  if (nftw(argv[0], visit, 64, FTW_PHYS) < 0) {
    serr_t e = {0};
    char out[4096];
    fail(&e, "list-opaque", errno, "walk %s", argv[0]);
    format_error_json(out, sizeof out, &e);
    fputs(out, stderr);
    return 1;
  }
  return 0;
}
