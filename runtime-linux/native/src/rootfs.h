/* The container's file system view: mounts, /dev, pivot_root, masked and read-only paths. */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

#include "cgroupfs.h"
#include "error.h"
#include "spec.h"

/* Run in the new mount namespace, before dropping privileges. bundle_dir is absolute; cg says what a "cgroup" mount shows. */
int rootfs_setup(const oci_spec *s, const char *bundle_dir, const cgroup_view *cg, serr_t *e);
/* After pivot_root (and sysctls): masked paths, read-only paths, a read-only root. */
int rootfs_finish(const oci_spec *s, serr_t *e);

/*
 * Opens path below rootfd without ever leaving it (symlinks resolve as if rootfd
 * were "/"). With create, missing directories are made (and a missing last
 * component is made as a file when as_file is set).
 */
int open_in_root(int rootfd, const char *path, int create, int as_file, serr_t *e);

#endif
