/*
 * skiff-runtime: the native half of skiff's Linux backend. It does only what
 * Node cannot (namespaces, mounts, pivot_root, cgroup joining, capabilities,
 * seccomp, exec, device nodes and xattrs); every policy decision comes from
 * the TypeScript side through an OCI runtime-spec bundle.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define VERSION "skiff-runtime 1 (OCI runtime-spec 1.1 subset)"

int usage_error(const char *cmd, const char *arg) {
  fprintf(stderr, "{\"error\":\"skiff-runtime %s: unexpected or incomplete argument %s\",\"op\":\"usage\",\"errno\":0}\n", cmd, arg ? arg : "");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: skiff-runtime run|exec|serve|proxy|apply-special|list-opaque|version ...\n");
    return 2;
  }
  /* The argv strings are contiguous from the program name to the last argument. */
  title_start = argv[0];
  title_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) - argv[0]);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "serve")) return cmd_serve(argc - 2, argv + 2);
  if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
  if (!strcmp(cmd, "exec")) return cmd_exec(argc - 2, argv + 2);
  if (!strcmp(cmd, "apply-special")) return cmd_apply_special(argc - 2, argv + 2);
  if (!strcmp(cmd, "proxy")) return cmd_proxy(argc - 2, argv + 2);
  if (!strcmp(cmd, "devices")) return cmd_devices(argc - 2, argv + 2);
  if (!strcmp(cmd, "list-opaque")) return cmd_list_opaque(argc - 2, argv + 2);
  if (!strcmp(cmd, "version")) { puts(VERSION); return 0; }
  return usage_error("", cmd);
}
