#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_apply_special(int argc, char **argv);
int cmd_list_opaque(int argc, char **argv);
int usage_error(const char *cmd, const char *arg);

#endif
