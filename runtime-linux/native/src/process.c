#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "security.h"

static int mkdir_p(const char *path, serr_t *e) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) return fail(e, "cwd", ENAMETOOLONG, "%s", path);
  strcpy(buf, path);
  for (char *p = buf + 1; ; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0755) < 0 && errno != EEXIST) return fail(e, "cwd", errno, "mkdir %s", buf);
      *p = c;
      if (!c) break;
    }
  }
  return 0;
}

/* Like docker: a WORKDIR that does not exist yet is made (as root, before the user switch). */
int ensure_cwd(const process_spec *p, serr_t *e) {
  struct stat st;
  if (stat(p->cwd, &st) == 0 || errno != ENOENT) return 0; /* other errors: prepare_process reports them */
  return mkdir_p(p->cwd, e);
}

int prepare_process(const process_spec *p, int make_cwd, serr_t *e) {
  if (make_cwd && ensure_cwd(p, e) < 0) return -1;
  if (chdir(p->cwd) < 0) return fail(e, "cwd", errno, "chdir to the working directory %s", p->cwd);
  umask(p->has_umask ? p->umask : 022);
  if (apply_rlimits(p, e) < 0) return -1;
  if (p->has_oom_score_adj) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    char buf[16];
    int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
    if (fd < 0 || write(fd, buf, n) != n) { int err = errno; if (fd >= 0) close(fd); return fail(e, "oom_score_adj", err, "write /proc/self/oom_score_adj"); }
    close(fd);
  }
  if (apply_credentials(p, e) < 0) return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail(e, "no_new_privs", errno, "prctl PR_SET_NO_NEW_PRIVS");
  return 0;
}

static const char *env_path(char **env) {
  for (char **v = env; v && *v; v++) if (!strncmp(*v, "PATH=", 5)) return *v + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/*
 * Every descriptor above stdio closes at the exec, whoever opened it: the
 * helper, or the process that started the daemon and left one open without
 * close-on-exec. A descriptor of a host file or directory in the container's
 * process would be a way out of its root (runc's CloseExecFrom does the same).
 * Marking instead of closing keeps the error pipe and status fd working if the
 * exec fails.
 */
static void cloexec_from(int low) {
  if (syscall(SYS_close_range, (unsigned)low, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  /* Kernels before 5.11: each open descriptor, from /proc. */
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  int self = dirfd(d);
  for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
    int fd = atoi(ent->d_name);
    if (fd >= low && fd != self) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  closedir(d);
}

int exec_process(const process_spec *p, serr_t *e) {
  const char *file = p->args[0];
  cloexec_from(3);
  if (strchr(file, '/')) {
    execve(file, p->args, p->env);
    int err = errno;
    return fail(e, "exec", err, "exec %s", file);
  }
  /* PATH search like execvp, in the container's environment; EACCES wins over ENOENT. */
  const char *path = env_path(p->env);
  int seen_eacces = 0, last = ENOENT;
  char buf[4096];
  for (const char *s = path; ; ) {
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    int n = len ? snprintf(buf, sizeof buf, "%.*s/%s", (int)len, s, file) : snprintf(buf, sizeof buf, "%s", file);
    if (n > 0 && (size_t)n < sizeof buf) {
      execve(buf, p->args, p->env);
      if (errno == EACCES) seen_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) last = errno;
    }
    if (!colon) break;
    s = colon + 1;
  }
  if (seen_eacces) return fail(e, "exec", EACCES, "exec %s: found on PATH but not executable", file);
  if (last != ENOENT) return fail(e, "exec", last, "exec %s", file);
  return fail(e, "exec", ENOENT, "exec %s: executable file not found in $PATH (%s)", file, path);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) { if (errno == EINTR) continue; return; }
    s += w;
    n -= (size_t)w;
  }
}

void report_line(int fd, const char *line) {
  if (fd >= 0) write_all(fd, line, strlen(line));
}

void report_error(int fd, const serr_t *e) {
  char buf[4096];
  if (fd < 0) {
    snprintf(buf, sizeof buf, "skiff-runtime: %s\n", e->msg);
    report_line(2, buf);
    return;
  }
  format_error_json(buf, sizeof buf, e);
  report_line(fd, buf);
}

void send_error(int fd, const serr_t *e) {
  /* The raw struct: both ends are this binary. */
  write_all(fd, (const char *)e, sizeof *e);
}

int read_child_error(int fd, serr_t *e) {
  size_t got = 0;
  char *buf = (char *)e;
  for (;;) {
    ssize_t r = read(fd, buf + got, sizeof *e - got);
    if (r < 0) { if (errno == EINTR) continue; break; }
    if (r == 0) break;
    got += (size_t)r;
    if (got == sizeof *e) break;
  }
  if (got == sizeof *e) { e->msg[sizeof e->msg - 1] = 0; e->op[sizeof e->op - 1] = 0; return 1; }
  if (got > 0) { fail(e, "start", 0, "the container process sent a truncated error"); return 1; }
  return 0;
}

int open_cgroups(char **dirs, int n, int *fds, serr_t *e) {
  char path[4096];
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", dirs[i]);
    fds[i] = open(path, O_WRONLY | O_CLOEXEC);
    if (fds[i] < 0) { int err = errno; while (i--) close(fds[i]); return fail(e, "cgroup", err, "open %s", path); }
  }
  return 0;
}

int join_cgroup_fds(pid_t pid, int *fds, char **dirs, int n, serr_t *e) {
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%d", (int)pid);
  for (int i = 0; i < n; i++)
    if (write(fds[i], buf, len) != len) return fail(e, "cgroup", errno, "join %s", dirs[i]);
  return 0;
}

int join_cgroups(pid_t pid, char **dirs, int n, serr_t *e) {
  char path[4096], buf[32];
  int len = snprintf(buf, sizeof buf, "%d", (int)pid);
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", dirs[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(e, "cgroup", errno, "open %s", path);
    if (write(fd, buf, len) != len) { int err = errno; close(fd); return fail(e, "cgroup", err, "join %s", path); }
    close(fd);
  }
  return 0;
}

void describe_status(int status, int *code, int *signal) {
  if (WIFSIGNALED(status)) { *signal = WTERMSIG(status); *code = 128 + *signal; }
  else { *signal = 0; *code = WEXITSTATUS(status); }
}

int write_exit_file(const char *path, int code, int signal, serr_t *e) {
  char tmp[4096], buf[96];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int n = snprintf(buf, sizeof buf, "{\"code\":%d,\"signal\":%d}\n", code, signal);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(e, "exit-file", errno, "create %s", tmp);
  if (write(fd, buf, n) != n) { int err = errno; close(fd); return fail(e, "exit-file", err, "write %s", tmp); }
  close(fd);
  if (rename(tmp, path) < 0) return fail(e, "exit-file", errno, "rename %s", tmp);
  return 0;
}

void run_init(pid_t main, int exit_fd) {
  sigset_t all;
  sigfillset(&all);
  /* The caller blocked every signal before forking main; sigwaitinfo takes them in turn. */
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(main, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p != main) continue;
      if (exit_fd >= 0) write_all(exit_fd, (const char *)&status, sizeof status);
      int code, signo;
      describe_status(status, &code, &signo);
      _exit(code);
    }
  }
}

static int trace_on = -1;
static struct timespec trace_t0;

void trace_init(void) {
  const char *v = getenv("SKIFF_TRACE");
  trace_on = v && *v && strcmp(v, "0") != 0;
  clock_gettime(CLOCK_MONOTONIC, &trace_t0);
}

void trace(const char *phase) {
  if (trace_on <= 0) return;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  char buf[128];
  double ms = (t.tv_sec - trace_t0.tv_sec) * 1e3 + (t.tv_nsec - trace_t0.tv_nsec) / 1e6;
  int n = snprintf(buf, sizeof buf, "skiff-trace %.3f %d %s\n", ms, (int)getpid(), phase);
  if (write(2, buf, n) < 0) {}
}
