/* What run and exec share: the last steps of a container process, and the status channel. */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include <sys/types.h>
#include "error.h"
#include "spec.h"

/* cwd (made when missing), umask, rlimits, oom_score_adj, user, capabilities, no_new_privs. */
int prepare_process(const process_spec *p, int make_cwd, serr_t *e);
/* Makes a missing working directory (as root), before a seccomp filter that may refuse mkdir. */
int ensure_cwd(const process_spec *p, serr_t *e);
/* execve with a PATH search in the process's own environment; returns only on failure. */
int exec_process(const process_spec *p, serr_t *e);

/* Sends one JSON line to the TypeScript side on the status fd (nothing without one); errors go to stderr then. */
void report_line(int fd, const char *line);
void report_error(int fd, const serr_t *e);
/* Writes the error as JSON to fd (the error pipe from a child). */
void send_error(int fd, const serr_t *e);
/* Reads a child's error pipe to EOF; returns 1 and fills e when the child sent one. */
int read_child_error(int fd, serr_t *e);

/* Writes our pid into each cgroup directory's cgroup.procs. */
int join_cgroups(pid_t pid, char **dirs, int n, serr_t *e);
/* The same in two steps, for when the cgroup files must be opened before entering another mount namespace. */
int open_cgroups(char **dirs, int n, int *fds, serr_t *e);
int join_cgroup_fds(pid_t pid, int *fds, char **dirs, int n, serr_t *e);

/* Exit status like docker: a signal N gives 128+N. */
void describe_status(int status, int *code, int *signal);
/* Writes {"code":..,"signal":..} to path atomically (temp file + rename). */
int write_exit_file(const char *path, int code, int signal, serr_t *e);

/* SKIFF_TRACE=1: "skiff-trace <ms since start> <phase>" lines on stderr, to see where a start spends its time. */
void trace_init(void);
void trace(const char *phase);

/* PID 1: forwards signals to main, reaps every child, and when main exits sends its raw status on exit_fd. */
void run_init(pid_t main, int exit_fd) __attribute__((noreturn));

#endif
