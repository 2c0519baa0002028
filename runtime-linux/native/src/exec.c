/*
 * `skiff-runtime exec`: a process beside a running container's. It joins the
 * namespaces of the container's first process (from /proc/PID/ns), its root,
 * and forks the new process, which the shim puts in the container's cgroups
 * before it runs. The shim stays outside the cgroups and waits for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "process.h"
#include "security.h"
#include "spec.h"
#include "relay.h"
#include "tty.h"
#include "io.h"

static const struct { const char *name; int type; } JOIN[] = {
  {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET},
  {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};

static int enter_container(pid_t target, serr_t *e) {
  char path[64];
  int fds[6];
  snprintf(path, sizeof path, "/proc/%d/root", (int)target);
  int rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(e, "exec", errno, "open %s (is the container running?)", path);
  /* Open them all first: after setns(mnt) /proc may be another one. */
  for (size_t i = 0; i < 6; i++) {
    struct stat mine, theirs;
    char self[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)target, JOIN[i].name);
    snprintf(self, sizeof self, "/proc/self/ns/%s", JOIN[i].name);
    fds[i] = -1;
    if (stat(path, &theirs) < 0) { int err = errno; close(rootfd); return fail(e, "exec", err, "stat %s", path); }
    if (stat(self, &mine) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) continue;
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) { int err = errno; close(rootfd); return fail(e, "exec", err, "open %s", path); }
  }
  for (size_t i = 0; i < 6; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], JOIN[i].type) < 0) { int err = errno; close(rootfd); return fail(e, "exec", err, "join the container's %s namespace", JOIN[i].name); }
    close(fds[i]);
  }
  if (fchdir(rootfd) < 0 || chroot(".") < 0) { int err = errno; close(rootfd); return fail(e, "exec", err, "enter the container's root"); }
  close(rootfd);
  return 0;
}

int cmd_exec(int argc, char **argv) {
  const char *bundle = ".", *process = NULL, *exit_file = NULL;
  char *cgroups[16];
  int ncgroups = 0, status_fd = -1;
  pid_t target = 0;
  io_options io = {0};
  for (int i = 0; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return usage_error("exec", a);
    if (!strcmp(a, "--bundle")) bundle = v;
    else if (!strcmp(a, "--process")) process = v;
    else if (!strcmp(a, "--pid")) target = (pid_t)atoi(v);
    else if (!strcmp(a, "--status-fd")) status_fd = atoi(v);
    else if (!strcmp(a, "--exit-file")) exit_file = v;
    else if (!strcmp(a, "--control")) io.control = v;
    else if (!strcmp(a, "--cgroup") && ncgroups < 16) cgroups[ncgroups++] = (char *)v;
    else return usage_error("exec", a);
  }
  if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  serr_t e = {0};
  if (target <= 0) { fail(&e, "exec", 0, "exec needs --pid of the container's first process"); report_error(status_fd, &e); return 1; }

  static oci_spec s;
  char cfg[PATH_MAX];
  snprintf(cfg, sizeof cfg, "%s/config.json", bundle);
  if (spec_load(&s, cfg, &e) < 0) { report_error(status_fd, &e); return 1; }
  if (process) {
    json *pj = json_load(process, &e);
    if (!pj) { report_error(status_fd, &e); return 1; }
    memset(&s.process, 0, sizeof s.process);
    if (spec_process(&s.process, pj, &e) < 0) { report_error(status_fd, &e); return 1; }
  }
  /* The control socket is bound in the host's network namespace, before entering the container's. */
  static io_loop iol;
  if (io_open(&iol, &io, &e) < 0) { report_error(status_fd, &e); return 1; }
  static stdio_relay stdio;
  if (!s.process.terminal && relay_prepare(&stdio, 0, &e) < 0) { report_error(status_fd, &e); return 1; }
  /* After entering, /sys/fs/cgroup is the container's view: open the host's cgroup files first. */
  int cgfds[16];
  if (open_cgroups(cgroups, ncgroups, cgfds, &e) < 0) { report_error(status_fd, &e); return 1; }
  if (enter_container(target, &e) < 0) { report_error(status_fd, &e); return 1; }
  /* The terminal comes from the container's own devpts (as runc's console socket gives), so
     `tty` inside names a /dev/pts entry the container has. */
  tty_relay relay = { .master = -1 };
  int slave = -1;
  if (s.process.terminal && tty_open(&relay, &slave, &e) < 0) { report_error(status_fd, &e); return 1; }

  int sync[2], errp[2];
  if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) { fail(&e, "exec", errno, "pipe"); report_error(status_fd, &e); return 1; }
  pid_t pid = fork();
  if (pid < 0) { fail(&e, "exec", errno, "fork"); report_error(status_fd, &e); return 1; }
  if (pid == 0) {
    close(sync[1]);
    close(errp[0]);
    char go = 0;
    if (read(sync[0], &go, 1) != 1 || go != 'g') _exit(1);
    signal(SIGPIPE, SIG_DFL);
    if (setsid() < 0) fail(&e, "setsid", errno, "setsid");
    else if (slave >= 0 && tty_make_stdio(slave, &e) < 0) {}
    else if (slave < 0 && relay_child(&stdio, &e) < 0) {}
    else if (!s.process.no_new_privileges && apply_seccomp(s.seccomp, &e) < 0) {}
    else if (prepare_process(&s.process, 0, &e) < 0) {}
    else if (s.process.no_new_privileges && apply_seccomp(s.seccomp, &e) < 0) {}
    else exec_process(&s.process, &e);
    send_error(errp[1], &e);
    _exit(127);
  }
  close(sync[0]);
  close(errp[1]);
  if (slave >= 0) close(slave);
  relay_parent(&stdio);
  int status = 0;
  if (join_cgroup_fds(pid, cgfds, cgroups, ncgroups, &e) < 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    report_error(status_fd, &e);
    return 1;
  }
  if (write(sync[1], "g", 1) != 1) { fail(&e, "exec", errno, "wake the process"); report_error(status_fd, &e); return 1; }
  close(sync[1]);
  serr_t ce;
  memset(&ce, 0, sizeof ce);
  if (read_child_error(errp[0], &ce)) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    report_error(status_fd, &ce);
    return 1;
  }
  char line[128];
  snprintf(line, sizeof line, "{\"pid\":%d}\n", (int)pid);
  report_line(status_fd, line);
  if (relay.master >= 0) io_run(&iol, NULL, &relay, pid, &status);
  else if (stdio.any || iol.listen_fd >= 0) io_run(&iol, &stdio, NULL, pid, &status);
  else while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  int code, sig;
  describe_status(status, &code, &sig);
  if (exit_file && write_exit_file(exit_file, code, sig, &e) < 0) report_error(status_fd, &e);
  snprintf(line, sizeof line, "{\"exit\":{\"code\":%d,\"signal\":%d}}\n", code, sig);
  report_line(status_fd, line);
  return 0;
}
