/*
 * `skiff-runtime run`: the shim. It clones the container's first process into
 * its namespaces, puts it in its cgroups, waits for the exec, and stays to
 * collect the exit status, which it reports on the status fd and in the exit
 * file (so a later Engine process can read it). No re-exec: one clone, and one
 * fork more when an init runs as PID 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdint.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "process.h"
#include "rootfs.h"
#include "security.h"
#include "spec.h"
#include "relay.h"
#include "tty.h"
#include "devices.h"
#include "io.h"

typedef struct {
  oci_spec spec;
  char bundle[PATH_MAX];
  int init;
  int sync[2], errp[2], exitp[2];
  int console_slave;
  int console[2]; /* the terminal's master goes from the container to the shim on this pair */
  int status_fd;
  cgroup_view cg; /* the container's cgroup directories, for a "cgroup" mount */
  stdio_relay stdio;
  io_loop io;
} run_ctx;

static int join_namespace_paths(const oci_spec *s, serr_t *e) {
  for (size_t i = 0; i < s->nnamespaces; i++) {
    const ns_spec *ns = &s->namespaces[i];
    if (!ns->path) continue;
    if (ns->type == CLONE_NEWPID || ns->type == CLONE_NEWNS) return fail(e, "namespace", EINVAL, "joining an existing pid or mount namespace (%s) is not supported", ns->path);
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(e, "namespace", errno, "open namespace %s", ns->path);
    int rc = setns(fd, ns->type);
    int err = errno;
    close(fd);
    if (rc < 0) return fail(e, "namespace", err, "setns %s", ns->path);
  }
  return 0;
}

/* A new network namespace starts with lo down; bring it up, as runc and crun do. */
static int loopback_up(serr_t *e) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(e, "network", errno, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
  }
  int err = errno;
  close(fd);
  return rc < 0 ? fail(e, "network", err, "bring lo up") : 0;
}

static int write_sysctls(const oci_spec *s, serr_t *e) {
  const json *sc = s->sysctl;
  for (size_t i = 0; sc && i < sc->n; i++) {
    if (sc->items[i]->t != J_STR) continue;
    char path[512] = "/proc/sys/";
    size_t o = strlen(path);
    for (const char *k = sc->keys[i]; *k && o < sizeof path - 1; k++) path[o++] = *k == '.' ? '/' : *k;
    path[o] = 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return fail(e, "sysctl", errno, "open %s", path);
    size_t n = strlen(sc->items[i]->s);
    if (write(fd, sc->items[i]->s, n) != (ssize_t)n) { int err = errno; close(fd); return fail(e, "sysctl", err, "write %s", path); }
    close(fd);
  }
  return 0;
}

char *title_start;
size_t title_len;

/* PID 1 shows as "skiff-init" in ps, not as the helper's command line. */
static void init_title(void) {
  if (!title_start || title_len < 11) return;
  memset(title_start, 0, title_len);
  memcpy(title_start, "skiff-init", 10);
  prctl(PR_SET_NAME, "skiff-init", 0, 0, 0);
}

/* clone3's argument block up to the cgroup field (Linux 5.7), spelled out to stay clear of <linux/sched.h>. */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define SKIFF_CLONE_INTO_CGROUP 0x200000000ULL
#define CGROUP2_MAGIC 0x63677270

/*
 * On cgroup v2 the process is born in its cgroup (clone3 CLONE_INTO_CGROUP),
 * so nothing migrates: a migration can wait for an RCU grace period, several
 * milliseconds. Returns -1 with errno when clone3 cannot do it (older kernel).
 */
static pid_t clone_into_cgroup(int flags, char **cgroups, int *ncgroups) {
  int idx = -1;
  for (int i = 0; i < *ncgroups && idx < 0; i++) {
    struct statfs sf;
    if (statfs(cgroups[i], &sf) == 0 && sf.f_type == CGROUP2_MAGIC) idx = i;
  }
  if (idx < 0) { errno = ENOENT; return -1; }
  int cgfd = open(cgroups[idx], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) return -1;
  struct clone3_args args;
  memset(&args, 0, sizeof args);
  args.flags = (uint64_t)(unsigned)flags | SKIFF_CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t)cgfd;
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  int err = errno;
  if (pid != 0) close(cgfd);
  if (pid > 0) {
    /* Joined already: the shim writes only the other hierarchies. */
    cgroups[idx] = cgroups[--*ncgroups];
  }
  errno = err;
  return pid;
}

/* Field 22 of /proc/PID/stat (start time in clock ticks): with the PID, it names one process for good. */
static unsigned long long start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  /* After ") " come fields 3..; the start time is field 22. */
  int field = 2;
  for (p++; *p && field < 22; p++) if (*p == ' ') field++;
  return strtoull(p, NULL, 10);
}

/* Waits until the shim has put us in our cgroups. */
static int await_cgroups(run_ctx *c, serr_t *e) {
  char go = 0;
  if (read(c->sync[0], &go, 1) != 1 || go != 'g') return fail(e, "cgroup", 0, "the runtime helper did not place the process in its cgroups");
  close(c->sync[0]);
  return 0;
}

static int has_cgroup_mount(const oci_spec *s) {
  for (size_t i = 0; i < s->nmounts; i++) if (!strcmp(s->mounts[i].type, "cgroup")) return 1;
  return 0;
}

/*
 * In the new namespaces: everything up to the exec. Returns only on failure.
 * The file system is set up while the shim moves us into our cgroups (the
 * first cgroup.procs write can wait for an RCU grace period); we wait for it
 * only before the cgroup namespace and the exec, unless a cgroup file system
 * is mounted, which must see the cgroup namespace.
 */
static int container_setup(run_ctx *c, serr_t *e) {
  oci_spec *s = &c->spec;
  int early = has_cgroup_mount(s);
  if (early && await_cgroups(c, e) < 0) return -1;
  int cgroupns = 0;
  for (size_t i = 0; i < s->nnamespaces; i++)
    if (s->namespaces[i].type == CLONE_NEWCGROUP && !s->namespaces[i].path) cgroupns = 1;
  if (early && cgroupns && unshare(CLONE_NEWCGROUP) < 0) return fail(e, "namespace", errno, "unshare the cgroup namespace");
  if (join_namespace_paths(s, e) < 0) return -1;
  for (size_t i = 0; i < s->nnamespaces; i++)
    if (s->namespaces[i].type == CLONE_NEWNET && !s->namespaces[i].path && loopback_up(e) < 0) return -1;
  umask(0);
  trace("child: namespaces");
  c->cg.cgroupns = early && cgroupns;
  if (spec_has_namespace(s, CLONE_NEWNS) && rootfs_setup(s, c->bundle, &c->cg, e) < 0) return -1;
  if (s->process.terminal && tty_open_in_container(c->console[1], spec_has_namespace(s, CLONE_NEWNS), &c->console_slave, e) < 0) return -1;
  trace("child: rootfs");
  if (s->hostname && spec_has_namespace(s, CLONE_NEWUTS) && sethostname(s->hostname, strlen(s->hostname)) < 0)
    return fail(e, "hostname", errno, "sethostname %s", s->hostname);
  if (s->domainname && spec_has_namespace(s, CLONE_NEWUTS) && setdomainname(s->domainname, strlen(s->domainname)) < 0)
    return fail(e, "domainname", errno, "setdomainname %s", s->domainname);
  if (write_sysctls(s, e) < 0) return -1;
  if (spec_has_namespace(s, CLONE_NEWNS) && rootfs_finish(s, e) < 0) return -1;
  if (setsid() < 0) return fail(e, "setsid", errno, "setsid");
  if (c->console_slave >= 0 && tty_make_stdio(c->console_slave, e) < 0) return -1;
  if (c->console_slave < 0 && relay_child(&c->stdio, e) < 0) return -1;
  if (!early && await_cgroups(c, e) < 0) return -1;
  trace("child: in cgroups");
  if (!early && cgroupns && unshare(CLONE_NEWCGROUP) < 0) return fail(e, "namespace", errno, "unshare the cgroup namespace");
  /* Without no_new_privs the filter needs CAP_SYS_ADMIN, so it goes on before the capabilities drop (as in runc);
     a missing WORKDIR is made first (dockerd makes it outside the container), as a profile may refuse mkdir. */
  if (!s->process.no_new_privileges && (ensure_cwd(&s->process, e) < 0 || apply_seccomp(s->seccomp, e) < 0)) return -1;
  if (prepare_process(&s->process, 1, e) < 0) return -1;
  if (s->process.no_new_privileges && apply_seccomp(s->seccomp, e) < 0) return -1;
  trace("child: ready to exec");
  return 0;
}

static void container_child(run_ctx *c) {
  /* The init never execs: close the status pipe here, or the shim's death would go unnoticed. */
  if (c->status_fd >= 0) close(c->status_fd);
  io_close_in_child(&c->io);
  close(c->sync[1]);
  close(c->errp[0]);
  close(c->exitp[0]);
  if (c->console[0] >= 0) close(c->console[0]);
  signal(SIGPIPE, SIG_DFL);
  serr_t e = {0};
  if (container_setup(c, &e) < 0) { send_error(c->errp[1], &e); _exit(127); }
  if (!c->init) {
    exec_process(&c->spec.process, &e);
    send_error(c->errp[1], &e);
    _exit(127);
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t main_pid = fork();
  if (main_pid < 0) { fail(&e, "init", errno, "fork the container's process"); send_error(c->errp[1], &e); _exit(127); }
  if (main_pid == 0) {
    close(c->exitp[1]);
    if (c->console_slave >= 0) {
      /* The process leads its own process group in the foreground of the terminal, as under tini
         (signals still blocked, so no SIGTTOU). */
      setpgid(0, 0);
      tcsetpgrp(0, getpid());
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    exec_process(&c->spec.process, &e);
    send_error(c->errp[1], &e);
    _exit(127);
  }
  close(c->errp[1]);
  /* Not dumpable: the container's processes may ptrace each other (as under Docker), not the init
     that holds the helper's pipes. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  init_title();
  run_init(main_pid, c->exitp[1]);
}

/*
 * Without a PID namespace of its own (--pid host) nothing ends the container's
 * other processes when its main one exits, and one that keeps the output
 * pipes open would hold the shim for ever. As runc does then, a watcher (a
 * fork of the shim, outside the container's cgroups) waits on a pidfd for
 * that exit and SIGKILLs whatever is left in the container's cgroup.
 */
static void kill_cgroup_after(pid_t pid, char **cgroups, int ncgroups) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd < 0 || ncgroups == 0) { if (pfd >= 0) close(pfd); return; }
  pid_t w = fork();
  if (w != 0) { close(pfd); return; }
  /* Hold nothing of the shim's open: its pipes and sockets must close when it ends. */
  if ((pfd > 0 && syscall(SYS_close_range, 0U, (unsigned)pfd - 1, 0) < 0) || syscall(SYS_close_range, (unsigned)pfd + 1, ~0U, 0) < 0)
    for (int fd = 0; fd < 1024; fd++) if (fd != pfd) close(fd); /* kernels before 5.9 */
  struct pollfd p = { .fd = pfd, .events = POLLIN };
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {}
  for (int round = 0; round < 100; round++) {
    int left = 0;
    for (int i = 0; i < ncgroups; i++) {
      char path[PATH_MAX];
      snprintf(path, sizeof path, "%s/cgroup.procs", cgroups[i]);
      FILE *f = fopen(path, "re");
      if (!f) continue;
      int victim;
      while (fscanf(f, "%d", &victim) == 1) if (victim > 0 && kill(victim, SIGKILL) == 0) left++;
      fclose(f);
    }
    if (!left) break;
    usleep(10000);
  }
  _exit(0);
}

int cmd_run(int argc, char **argv) {
  const char *bundle = ".", *exit_file = NULL, *pid_file = NULL;
  char *cgroups[16];
  int ncgroups = 0, status_fd = -1, init = 0;
  io_options io = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--init")) { init = 1; continue; }
    if (!strcmp(a, "--stdin-open")) { io.stdin_open = 1; continue; }
    if (!strcmp(a, "--stdin-once")) { io.stdin_once = 1; continue; }
    if (!v) return usage_error("run", a);
    if (!strcmp(a, "--bundle")) bundle = v;
    else if (!strcmp(a, "--log")) io.log_path = v;
    else if (!strcmp(a, "--log-max-size")) io.log_max_size = atoll(v);
    else if (!strcmp(a, "--log-max-files")) io.log_max_files = atoi(v);
    else if (!strcmp(a, "--control")) io.control = v;
    else if (!strcmp(a, "--status-fd")) status_fd = atoi(v);
    else if (!strcmp(a, "--exit-file")) exit_file = v;
    else if (!strcmp(a, "--pid-file")) pid_file = v;
    else if (!strcmp(a, "--cgroup") && ncgroups < 16) cgroups[ncgroups++] = (char *)v;
    else return usage_error("run", a);
    i++;
  }
  if (status_fd >= 0) fcntl(status_fd, F_SETFD, FD_CLOEXEC);
  signal(SIGPIPE, SIG_IGN);
  trace_init();

  static run_ctx c;
  serr_t e = {0};
  c.init = init;
  c.console_slave = -1;
  c.status_fd = status_fd;
  if (!realpath(bundle, c.bundle)) { fail(&e, "bundle", errno, "bundle directory %s", bundle); report_error(status_fd, &e); return 1; }
  if (chdir(c.bundle) < 0) { fail(&e, "bundle", errno, "chdir %s", c.bundle); report_error(status_fd, &e); return 1; }
  if (spec_load(&c.spec, "config.json", &e) < 0) { report_error(status_fd, &e); return 1; }
  if (io_open(&c.io, &io, &e) < 0) { report_error(status_fd, &e); return 1; }

  tty_relay relay = { .master = -1 };
  c.console[0] = c.console[1] = -1;
  if (c.spec.process.terminal) {
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c.console) < 0) { fail(&e, "tty", errno, "socketpair for the terminal"); report_error(status_fd, &e); return 1; }
  } else if (relay_prepare(&c.stdio, (io.stdin_open ? 1 : 0) | (io.log_path ? 6 : 0), &e) < 0) {
    report_error(status_fd, &e);
    return 1;
  }

  trace("config read");
  int flags = 0;
  for (size_t i = 0; i < c.spec.nnamespaces; i++)
    if (!c.spec.namespaces[i].path && c.spec.namespaces[i].type != CLONE_NEWCGROUP) flags |= c.spec.namespaces[i].type;
  if (pipe2(c.sync, O_CLOEXEC) < 0 || pipe2(c.errp, O_CLOEXEC) < 0 || pipe2(c.exitp, O_CLOEXEC) < 0) {
    fail(&e, "start", errno, "pipe");
    report_error(status_fd, &e);
    return 1;
  }
  /* clone_into_cgroup drops the directory it joined from `cgroups`; the device filter needs them all. */
  char *all_cgroups[16];
  int nall = ncgroups;
  memcpy(all_cgroups, cgroups, sizeof(char *) * (size_t)ncgroups);
  c.cg.dirs = all_cgroups;
  c.cg.ndirs = nall;
  pid_t pid = clone_into_cgroup(flags, cgroups, &ncgroups);
  if (pid < 0) pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) { fail(&e, "clone", errno, "clone into new namespaces (flags 0x%x)", flags); report_error(status_fd, &e); return 1; }
  if (pid == 0) {
    container_child(&c);
    _exit(127);
  }
  trace("cloned");
  close(c.sync[0]);
  close(c.errp[1]);
  close(c.exitp[1]);
  if (c.console[1] >= 0) close(c.console[1]);
  relay_parent(&c.stdio);

  int status = 0;
  /* The device filter goes on the cgroup2 directory before the process may run its own code. */
  if (devices_attach(c.spec.device_rules, all_cgroups, nall, &e) < 0 || join_cgroups(pid, cgroups, ncgroups, &e) < 0) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    report_error(status_fd, &e);
    return 1;
  }
  trace("cgroups joined");
  if (write(c.sync[1], "g", 1) != 1) { fail(&e, "start", errno, "wake the container process"); report_error(status_fd, &e); return 1; }
  close(c.sync[1]);

  serr_t ce;
  memset(&ce, 0, sizeof ce);
  if (read_child_error(c.errp[0], &ce)) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    report_error(status_fd, &ce);
    return 1;
  }
  close(c.errp[0]);
  /* The process runs: its terminal was sent before the exec. */
  if (c.console[0] >= 0) {
    int rc = tty_receive_master(c.console[0], &relay, &e);
    close(c.console[0]);
    if (rc < 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
      report_error(status_fd, &e);
      return 1;
    }
  }

  char line[128];
  if (pid_file) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", pid_file);
    FILE *f = fopen(tmp, "we");
    if (f) { fprintf(f, "{\"shim\":%d,\"shimStart\":%llu,\"pid\":%d}\n", (int)getpid(), start_time(getpid()), (int)pid); fclose(f); rename(tmp, pid_file); }
  }
  snprintf(line, sizeof line, "{\"pid\":%d}\n", (int)pid);
  report_line(status_fd, line);
  trace("started");
  if (!spec_has_namespace(&c.spec, CLONE_NEWPID)) kill_cgroup_after(pid, all_cgroups, nall);

  if (relay.master >= 0) io_run(&c.io, NULL, &relay, pid, &status);
  else if (c.stdio.any || c.io.listen_fd >= 0) io_run(&c.io, &c.stdio, NULL, pid, &status);
  else while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  trace("exited");
  int raw;
  if (read(c.exitp[0], &raw, sizeof raw) == sizeof raw) status = raw;
  int code, sig;
  describe_status(status, &code, &sig);
  if (exit_file && write_exit_file(exit_file, code, sig, &e) < 0) report_error(status_fd, &e);
  snprintf(line, sizeof line, "{\"exit\":{\"code\":%d,\"signal\":%d}}\n", code, sig);
  report_line(status_fd, line);
  return 0;
}
