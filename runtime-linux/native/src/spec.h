/* The parts of an OCI runtime-spec config.json that the helper acts on. */
#ifndef SKIFF_SPEC_H
#define SKIFF_SPEC_H

#include <stdint.h>
#include <sys/types.h>
#include "json.h"

enum { CAPSET_BOUNDING, CAPSET_EFFECTIVE, CAPSET_PERMITTED, CAPSET_INHERITABLE, CAPSET_AMBIENT, CAPSET_COUNT };

typedef struct {
  int resource;
  uint64_t soft, hard;
} rlimit_spec;

typedef struct {
  int terminal;
  char **args;
  char **env;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *gids;
  size_t ngids;
  int has_umask;
  mode_t umask;
  uint64_t caps[CAPSET_COUNT];
  int has_caps;
  int no_new_privileges;
  rlimit_spec *rlimits;
  size_t nrlimits;
  int has_oom_score_adj;
  int oom_score_adj;
} process_spec;

typedef struct {
  const char *destination;
  const char *type;
  const char *source;
  unsigned long flags;       /* MS_* applied when mounting */
  unsigned long clear;       /* flags the options turned off (rw, dev, suid...) */
  unsigned long propagation; /* MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE, with MS_REC */
  int bind, recursive;
  char *data;                /* options the kernel takes as a string */
} mount_spec;

typedef struct {
  int type; /* CLONE_NEW* */
  const char *path;
} ns_spec;

typedef struct {
  const char *path;
  char type; /* c, b, u, p */
  int64_t major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
} device_spec;

typedef struct {
  json *root_json;
  process_spec process;
  const char *root_path;
  int root_readonly;
  const char *hostname;
  const char *domainname;
  mount_spec *mounts;
  size_t nmounts;
  ns_spec *namespaces;
  size_t nnamespaces;
  char **masked_paths;
  char **readonly_paths;
  device_spec *devices;
  size_t ndevices;
  json *sysctl;
  json *seccomp;
  /* linux.resources.devices: the device rules (cgroup v2 enforces them with an eBPF program). */
  json *device_rules;
  unsigned long rootfs_propagation;
  /* skiff's own annotations: mount an overlay at root.path inside the container's mount namespace. */
  const char *overlay_options;
  const char *overlay_dir;
  unsigned long overlay_flags;
} oci_spec;

int spec_load(oci_spec *s, const char *path, serr_t *e);
/* Parses a process object (config.json's "process", or exec's process.json). */
int spec_process(process_spec *p, const json *proc, serr_t *e);
int spec_has_namespace(const oci_spec *s, int type);

/* Capability number by "CAP_NAME"; -1 when unknown. */
int cap_from_name(const char *name);
void parse_mount_options(mount_spec *m, char **opts);

#endif
