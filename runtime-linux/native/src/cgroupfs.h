/* /sys/fs/cgroup in the container: its own cgroups, as runc mounts an OCI mount of type "cgroup". */
#ifndef SKIFF_CGROUPFS_H
#define SKIFF_CGROUPFS_H

#include "error.h"
#include "spec.h"

typedef struct {
  /* The container's cgroup directories on the host (the --cgroup arguments), one per hierarchy. */
  char **dirs;
  int ndirs;
  /* Whether the process has unshared its cgroup namespace (already in its cgroups). */
  int cgroupns;
} cgroup_view;

/*
 * cgroup2 host: cgroup2 mounted at m->destination (in a private namespace its
 * root is the container's cgroup). v1 host: a tmpfs with one mount per
 * hierarchy the container is in (its namespace root, or a bind of its cgroup
 * directory with the host's namespace) and a symlink per controller of a
 * combined one (cpu -> cpu,cpuacct).
 */
int mount_cgroupfs(int rootfd, const mount_spec *m, const cgroup_view *v, serr_t *e);

#endif
