#ifndef SKIFF_CLI_H
#define SKIFF_CLI_H

int cmd_run(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_apply_special(int argc, char **argv);
int cmd_list_opaque(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int usage_error(const char *cmd, const char *arg);

/* The process's own argv area, which an init rewrites to show as "skiff-init". */
extern char *title_start;
extern size_t title_len;

#endif
