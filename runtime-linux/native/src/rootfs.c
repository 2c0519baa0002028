#include "rootfs.h"
#include "cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

static int openat2_in_root(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve) {
  struct open_how how = { .flags = (unsigned long long)flags, .mode = mode, .resolve = resolve };
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

#define RES_IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/*
 * Makes every directory of path below rootfd. Each step is resolved from the
 * root again (symlinks act as if rootfd were "/"); a dangling symlink on the
 * way gets its target made, inside the root, as a directory.
 */
static int mkdir_in_root(int rootfd, const char *path, int depth, serr_t *e) {
  if (depth > 16) return fail(e, "mount", ELOOP, "make %s in the container's root", path);
  char buf[PATH_MAX], prefix[PATH_MAX] = "";
  if (strlen(path) >= sizeof buf) return fail(e, "mount", ENAMETOOLONG, "%s", path);
  strcpy(buf, path);
  char *save = NULL;
  for (char *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    char candidate[PATH_MAX];
    if ((size_t)snprintf(candidate, sizeof candidate, "%s/%s", prefix, part) >= sizeof candidate) return fail(e, "mount", ENAMETOOLONG, "%s", path);
    int fd = openat2_in_root(rootfd, candidate, O_PATH | O_CLOEXEC, 0, RES_IN_ROOT);
    if (fd >= 0) { close(fd); strcpy(prefix, candidate); continue; }
    if (errno != ENOENT) return fail(e, "mount", errno, "open %s in the container's root", candidate);
    int pfd = openat2_in_root(rootfd, prefix[0] ? prefix : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RES_IN_ROOT);
    if (pfd < 0) return fail(e, "mount", errno, "open %s in the container's root", prefix[0] ? prefix : "/");
    if (mkdirat(pfd, part, 0755) == 0) { close(pfd); strcpy(prefix, candidate); continue; }
    if (errno != EEXIST) { int err = errno; close(pfd); return fail(e, "mount", err, "mkdir %s in the container's root", candidate); }
    /* It exists but does not resolve: a dangling symlink. Make what it points at, inside the root. */
    char target[PATH_MAX], next[PATH_MAX];
    ssize_t n = readlinkat(pfd, part, target, sizeof target - 1);
    int err = errno;
    close(pfd);
    if (n < 0) return fail(e, "mount", err, "readlink %s in the container's root", candidate);
    target[n] = 0;
    if (target[0] == '/') snprintf(next, sizeof next, "%s", target);
    else if ((size_t)snprintf(next, sizeof next, "%s/%s", prefix, target) >= sizeof next) return fail(e, "mount", ENAMETOOLONG, "%s", path);
    if (mkdir_in_root(rootfd, next, depth + 1, e) < 0) return -1;
    strcpy(prefix, candidate);
  }
  return 0;
}

int open_in_root(int rootfd, const char *path, int create, int as_file, serr_t *e) {
  int fd = openat2_in_root(rootfd, path, O_PATH | O_CLOEXEC, 0, RES_IN_ROOT);
  if (fd >= 0 || !create || errno != ENOENT) {
    if (fd < 0) fail(e, "mount", errno, "open %s in the container's root", path);
    return fd;
  }
  if (as_file) {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = 0;
    if (parent[0] && mkdir_in_root(rootfd, parent, 0, e) < 0) return -1;
    int f = openat2_in_root(rootfd, path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644, RES_IN_ROOT);
    if (f < 0 && errno != EEXIST) return fail(e, "mount", errno, "create %s in the container's root", path);
    if (f >= 0) close(f);
  } else if (mkdir_in_root(rootfd, path, 0, e) < 0) {
    return -1;
  }
  fd = openat2_in_root(rootfd, path, O_PATH | O_CLOEXEC, 0, RES_IN_ROOT);
  if (fd < 0) return fail(e, "mount", errno, "open %s in the container's root", path);
  return fd;
}

static void fd_path(char *buf, size_t cap, int fd) {
  snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

/* Flags a bind remount must keep, or the kernel refuses it (locked mount flags). */
static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  if (statvfs(path, &st) < 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int mount_one(int rootfd, const mount_spec *m, const cgroup_view *cg, serr_t *e) {
  if (!strcmp(m->type, "cgroup")) return mount_cgroupfs(rootfd, m, cg, e);
  int is_file = 0;
  if (m->bind) {
    struct stat st;
    if (stat(m->source, &st) < 0) return fail(e, "mount", errno, "bind mount source %s (for %s)", m->source, m->destination);
    is_file = !S_ISDIR(st.st_mode);
  }
  int special = !strcmp(m->type, "proc") || !strcmp(m->type, "sysfs");
  int fd = open_in_root(rootfd, m->destination, 1, is_file, e);
  if (fd < 0) return -1;
  char target[64];
  fd_path(target, sizeof target, fd);
  if (special) {
    /* proc and sysfs only on a real directory: an image's symlink must not redirect them. */
    struct stat st;
    if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0 || !S_ISDIR(st.st_mode)) {
      close(fd);
      return fail(e, "mount", ENOTDIR, "mount %s on %s", m->type, m->destination);
    }
  }
  int rc;
  if (m->bind) {
    rc = mount(m->source, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL);
    if (rc < 0) { int err = errno; close(fd); return fail(e, "mount", err, "bind mount %s on %s", m->source, m->destination); }
    unsigned long want = m->flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
    if (want) {
      /* The new mount sits on the path now; reopen it to reach the mount, not what was under it. */
      int mfd = open_in_root(rootfd, m->destination, 0, 0, e);
      if (mfd < 0) { close(fd); return -1; }
      char mpath[64];
      fd_path(mpath, sizeof mpath, mfd);
      unsigned long keep = locked_flags(mpath) & ~m->clear;
      rc = mount(NULL, mpath, NULL, MS_BIND | MS_REMOUNT | want | keep, NULL);
      int err = errno;
      close(mfd);
      if (rc < 0) { close(fd); return fail(e, "mount", err, "remount %s with its options (%s)", m->destination, (m->flags & MS_RDONLY) ? "read-only" : "flags"); }
    }
  } else {
    rc = mount(m->source ? m->source : m->type, target, m->type, m->flags, m->data[0] ? m->data : NULL);
    if (rc < 0) { int err = errno; close(fd); return fail(e, "mount", err, "mount %s on %s (options \"%s\")", m->type, m->destination, m->data); }
  }
  if (m->propagation) {
    int mfd = open_in_root(rootfd, m->destination, 0, 0, e);
    if (mfd >= 0) {
      char mpath[64];
      fd_path(mpath, sizeof mpath, mfd);
      rc = mount(NULL, mpath, NULL, m->propagation, NULL);
      int err = errno;
      close(mfd);
      if (rc < 0) { close(fd); return fail(e, "mount", err, "set propagation of %s", m->destination); }
    }
  }
  close(fd);
  return 0;
}

/* The devices every container gets (as runc and Docker make them) and /dev's symlinks. */
static const struct { const char *name; int major, minor; } DEFAULT_DEVICES[] = {
  {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static int make_dev(int rootfd, const mount_spec *dev, const oci_spec *s, serr_t *e) {
  (void)dev;
  int dfd = open_in_root(rootfd, "/dev", 0, 0, e);
  if (dfd < 0) return -1;
  char dpath[64];
  fd_path(dpath, sizeof dpath, dfd);
  int d = open(dpath, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(dfd);
  if (d < 0) return fail(e, "mount", errno, "open /dev in the container");
  for (size_t i = 0; i < sizeof DEFAULT_DEVICES / sizeof *DEFAULT_DEVICES; i++) {
    if (mknodat(d, DEFAULT_DEVICES[i].name, S_IFCHR | 0666, makedev(DEFAULT_DEVICES[i].major, DEFAULT_DEVICES[i].minor)) < 0 && errno != EEXIST) {
      int err = errno;
      close(d);
      return fail(e, "mount", err, "mknod /dev/%s", DEFAULT_DEVICES[i].name);
    }
  }
  for (size_t i = 0; i < s->ndevices; i++) {
    const device_spec *dv = &s->devices[i];
    if (strncmp(dv->path, "/dev/", 5)) { close(d); return fail(e, "mount", EINVAL, "device %s: only devices under /dev are supported", dv->path); }
    mode_t type = dv->type == 'b' ? S_IFBLK : dv->type == 'p' ? S_IFIFO : S_IFCHR;
    int pfd = open_in_root(rootfd, dv->path, 0, 0, e);
    if (pfd >= 0) { close(pfd); continue; }
    const char *rel = dv->path + 5;
    if (mknodat(d, rel, type | (dv->mode & 07777), makedev(dv->major, dv->minor)) < 0 ||
        fchownat(d, rel, dv->uid, dv->gid, AT_SYMLINK_NOFOLLOW) < 0) {
      int err = errno;
      close(d);
      return fail(e, "mount", err, "mknod %s", dv->path);
    }
  }
  static const struct { const char *target, *name; } LINKS[] = {
    {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
  };
  for (size_t i = 0; i < sizeof LINKS / sizeof *LINKS; i++) {
    if (symlinkat(LINKS[i].target, d, LINKS[i].name) < 0 && errno != EEXIST) {
      int err = errno;
      close(d);
      return fail(e, "mount", err, "symlink /dev/%s", LINKS[i].name);
    }
  }
  close(d);
  return 0;
}

static int pivot(const char *rootfs, serr_t *e) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) return fail(e, "pivot_root", errno, "open /");
  int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) { close(oldroot); return fail(e, "pivot_root", errno, "open %s", rootfs); }
  int rc = -1;
  if (fchdir(newroot) < 0) { fail(e, "pivot_root", errno, "chdir %s", rootfs); goto out; }
  /* pivot_root(".", ".") stacks the old root on the new one; detaching it then leaves only the new root. */
  if (syscall(SYS_pivot_root, ".", ".") < 0) { fail(e, "pivot_root", errno, "pivot_root to %s", rootfs); goto out; }
  if (fchdir(oldroot) < 0) { fail(e, "pivot_root", errno, "chdir to the old root"); goto out; }
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) { fail(e, "pivot_root", errno, "make the old root a slave"); goto out; }
  if (umount2(".", MNT_DETACH) < 0) { fail(e, "pivot_root", errno, "detach the old root"); goto out; }
  if (chdir("/") < 0) { fail(e, "pivot_root", errno, "chdir /"); goto out; }
  rc = 0;
out:
  close(oldroot);
  close(newroot);
  return rc;
}

static int mask_paths(char **paths, serr_t *e) {
  for (char **p = paths; p && *p; p++) {
    struct stat st;
    if (stat(*p, &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return fail(e, "mount", errno, "stat masked path %s", *p);
    }
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0") : mount("/dev/null", *p, NULL, MS_BIND, NULL);
    if (rc < 0) return fail(e, "mount", errno, "mask %s", *p);
  }
  return 0;
}

static int readonly_paths(char **paths, serr_t *e) {
  for (char **p = paths; p && *p; p++) {
    if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return fail(e, "mount", errno, "bind read-only path %s", *p);
    }
    if (mount(NULL, *p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(*p), NULL) < 0)
      return fail(e, "mount", errno, "make %s read-only", *p);
  }
  return 0;
}

int rootfs_setup(const oci_spec *s, const char *bundle_dir, const cgroup_view *cg, serr_t *e) {
  char rootfs[PATH_MAX];
  if (s->root_path[0] == '/') snprintf(rootfs, sizeof rootfs, "%s", s->root_path);
  else snprintf(rootfs, sizeof rootfs, "%s/%s", bundle_dir, s->root_path);

  if (mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0) return fail(e, "mount", errno, "set the propagation of /");
  if (s->overlay_options) {
    /* Lower dirs are relative to overlay_dir, which keeps the option string under a page. */
    if (s->overlay_dir && chdir(s->overlay_dir) < 0) return fail(e, "mount", errno, "chdir %s", s->overlay_dir);
    if (mount("overlay", rootfs, "overlay", s->overlay_flags, s->overlay_options) < 0)
      return fail(e, "mount", errno, "mount overlay on %s (%s)", rootfs, s->overlay_options);
    if (chdir(bundle_dir) < 0) return fail(e, "mount", errno, "chdir %s", bundle_dir);
  } else if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) {
    return fail(e, "mount", errno, "bind mount the root file system %s", rootfs);
  }
  int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(e, "mount", errno, "open %s", rootfs);

  int has_dev = 0;
  for (size_t i = 0; i < s->nmounts; i++) {
    if (mount_one(rootfd, &s->mounts[i], cg, e) < 0) { close(rootfd); return -1; }
    if (!strcmp(s->mounts[i].destination, "/dev") && !s->mounts[i].bind) has_dev = 1;
  }
  if (has_dev && make_dev(rootfd, NULL, s, e) < 0) { close(rootfd); return -1; }
  close(rootfd);

  return pivot(rootfs, e);
}

int rootfs_finish(const oci_spec *s, serr_t *e) {
  if (mask_paths(s->masked_paths, e) < 0 || readonly_paths(s->readonly_paths, e) < 0) return -1;
  if (s->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
    return fail(e, "mount", errno, "make the root file system read-only");
  return 0;
}
