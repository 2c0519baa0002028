/* Credentials, capabilities, no_new_privs and the seccomp filter: the last steps before exec. */
#ifndef SKIFF_SECURITY_H
#define SKIFF_SECURITY_H

#include "error.h"
#include "json.h"
#include "spec.h"

/* Drops the bounding set (needs CAP_SETPCAP), switches uid/gid/groups, then sets the other sets. */
int apply_credentials(const process_spec *p, serr_t *e);
/* Builds a classic BPF program from an OCI "linux.seccomp" object and loads it. */
int apply_seccomp(const json *seccomp, serr_t *e);
int apply_rlimits(const process_spec *p, serr_t *e);

#endif
