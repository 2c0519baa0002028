#include "cgroupfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "rootfs.h"

#define CGROUP2_SUPER_MAGIC 0x63677270
/* What runc gives every cgroup mount (its defaultMountFlags). */
#define CG_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

static void fd_path(char *buf, size_t cap, int fd) {
  snprintf(buf, cap, "/proc/self/fd/%d", fd);
}

/* One v1 hierarchy: its mount point on the host and the container's directory in it. */
typedef struct {
  char mountpoint[PATH_MAX];
  const char *dir;
} hierarchy;

/* The container's directory under mountpoint, if one of its cgroups is there. */
static const char *dir_under(const cgroup_view *v, const char *mountpoint) {
  size_t n = strlen(mountpoint);
  for (int i = 0; i < v->ndirs; i++)
    if (!strncmp(v->dirs[i], mountpoint, n) && v->dirs[i][n] == '/') return v->dirs[i];
  return NULL;
}

/*
 * The v1 hierarchies from /proc/self/mountinfo, read whole before anything is
 * mounted. Only those the container has a cgroup in: a hierarchy skiff does
 * not place it in would show the daemon's cgroup (and its processes' host PIDs).
 */
static int v1_hierarchies(const cgroup_view *v, hierarchy *out, int cap, serr_t *e) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return fail(e, "mount", errno, "read /proc/self/mountinfo");
  int n = 0;
  char line[4096], devs[32][32];
  int ndevs = 0;
  while (n < cap && fgets(line, sizeof line, f)) {
    char dev[32], root[PATH_MAX], mp[PATH_MAX];
    const char *dash = strstr(line, " - ");
    if (!dash || strncmp(dash + 3, "cgroup ", 7)) continue;
    if (sscanf(line, "%*s %*s %31s %4095s %4095s", dev, root, mp) != 3 || strchr(mp, '\\')) continue;
    const char *dir = dir_under(v, mp);
    if (!dir) continue;
    int seen = 0;
    for (int i = 0; i < ndevs; i++) if (!strcmp(devs[i], dev)) seen = 1;
    if (seen || ndevs == 32) continue;
    strcpy(devs[ndevs++], dev);
    snprintf(out[n].mountpoint, sizeof out[n].mountpoint, "%s", mp);
    out[n].dir = dir;
    n++;
  }
  fclose(f);
  return n;
}

static int mount_hierarchy(int rootfd, const mount_spec *m, const hierarchy *h, const cgroup_view *v, serr_t *e) {
  const char *base = strrchr(h->mountpoint, '/') + 1;
  char dest[PATH_MAX], target[64];
  if ((size_t)snprintf(dest, sizeof dest, "%s/%s", m->destination, base) >= sizeof dest) return fail(e, "mount", ENAMETOOLONG, "%s", m->destination);
  int fd = open_in_root(rootfd, dest, 1, 0, e);
  if (fd < 0) return -1;
  fd_path(target, sizeof target, fd);
  unsigned long ro = m->flags & MS_RDONLY;
  int rc;
  if (v->cgroupns) {
    /* Mounted inside the namespace, the hierarchy's root is the container's cgroup. */
    int systemd = !strcmp(base, "systemd");
    rc = mount(systemd ? "systemd" : "cgroup", target, "cgroup", CG_FLAGS | ro, systemd ? "name=systemd" : base);
    if (rc < 0) { int err = errno; close(fd); return fail(e, "mount", err, "mount cgroup %s on %s", base, dest); }
  } else {
    rc = mount(h->dir, target, NULL, MS_BIND | MS_REC, NULL);
    if (rc < 0) { int err = errno; close(fd); return fail(e, "mount", err, "bind mount %s on %s", h->dir, dest); }
    /* Reopen to reach the new mount, not the directory under it. */
    int mfd = open_in_root(rootfd, dest, 0, 0, e);
    if (mfd < 0) { close(fd); return -1; }
    char mpath[64];
    fd_path(mpath, sizeof mpath, mfd);
    rc = mount(NULL, mpath, NULL, MS_BIND | MS_REMOUNT | CG_FLAGS | ro, NULL);
    int err = errno;
    close(mfd);
    if (rc < 0) { close(fd); return fail(e, "mount", err, "remount %s with its options", dest); }
  }
  close(fd);
  return 0;
}

/* cpu -> cpu,cpuacct and cpuacct -> cpu,cpuacct (net_cls,net_prio alike), as runc links them. */
static int link_combined(int rootfd, const mount_spec *m, const char *combined, serr_t *e) {
  int dfd = open_in_root(rootfd, m->destination, 0, 0, e);
  if (dfd < 0) return -1;
  char names[PATH_MAX], *save = NULL;
  snprintf(names, sizeof names, "%s", combined);
  for (char *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    if (symlinkat(combined, dfd, name) < 0 && errno != EEXIST) {
      int err = errno;
      close(dfd);
      return fail(e, "mount", err, "symlink %s/%s", m->destination, name);
    }
  }
  close(dfd);
  return 0;
}

static int mount_v1(int rootfd, const mount_spec *m, const cgroup_view *v, serr_t *e) {
  hierarchy hs[32];
  int n = v1_hierarchies(v, hs, 32, e);
  if (n < 0) return -1;
  int fd = open_in_root(rootfd, m->destination, 1, 0, e);
  if (fd < 0) return -1;
  char target[64];
  fd_path(target, sizeof target, fd);
  /* The tmpfs stays writable, as runc leaves it: only the hierarchies are read-only. */
  int rc = mount("tmpfs", target, "tmpfs", CG_FLAGS, "mode=755");
  int err = errno;
  close(fd);
  if (rc < 0) return fail(e, "mount", err, "mount tmpfs on %s", m->destination);
  for (int i = 0; i < n; i++) {
    if (mount_hierarchy(rootfd, m, &hs[i], v, e) < 0) return -1;
    const char *base = strrchr(hs[i].mountpoint, '/') + 1;
    if (strchr(base, ',') && link_combined(rootfd, m, base, e) < 0) return -1;
  }
  return 0;
}

int mount_cgroupfs(int rootfd, const mount_spec *m, const cgroup_view *v, serr_t *e) {
  struct statfs sf;
  if (statfs("/sys/fs/cgroup", &sf) < 0) return fail(e, "mount", errno, "statfs /sys/fs/cgroup");
  if (sf.f_type != CGROUP2_SUPER_MAGIC) return mount_v1(rootfd, m, v, e);
  int fd = open_in_root(rootfd, m->destination, 1, 0, e);
  if (fd < 0) return -1;
  char target[64];
  fd_path(target, sizeof target, fd);
  int rc = mount("cgroup2", target, "cgroup2", m->flags, NULL);
  int err = errno;
  close(fd);
  return rc < 0 ? fail(e, "mount", err, "mount cgroup2 on %s", m->destination) : 0;
}
