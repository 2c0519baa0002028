/* cgroup v2 device rules as an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE). */
#ifndef SKIFF_DEVICES_H
#define SKIFF_DEVICES_H

#include "error.h"
#include "json.h"
#include "cli.h"

struct bpf_insn;

/* Compiles OCI linux.resources.devices rules into a program (malloc'd, *count instructions). */
int devices_compile(const json *rules, struct bpf_insn **out, int *count, serr_t *e);
/* Loads the program for `rules` and attaches it to each cgroup2 directory among `cgroups`
   (replacing an earlier one of ours); v1 directories are skipped. No rules: nothing is done. */
int devices_attach(const json *rules, char **cgroups, int n, serr_t *e);

#endif
