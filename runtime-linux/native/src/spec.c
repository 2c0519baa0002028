#include "spec.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

static const char *const CAP_NAMES[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
  "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int cap_from_name(const char *name) {
  for (size_t i = 0; i < sizeof CAP_NAMES / sizeof *CAP_NAMES; i++)
    if (!strcasecmp(name, CAP_NAMES[i])) return (int)i;
  return -1;
}

static const struct { const char *name; int res; } RLIMITS[] = {
  {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
  {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
  {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static const struct { const char *name; int clear; unsigned long flag; } MOUNT_FLAGS[] = {
  {"ro", 0, MS_RDONLY}, {"rw", 1, MS_RDONLY}, {"nosuid", 0, MS_NOSUID}, {"suid", 1, MS_NOSUID},
  {"nodev", 0, MS_NODEV}, {"dev", 1, MS_NODEV}, {"noexec", 0, MS_NOEXEC}, {"exec", 1, MS_NOEXEC},
  {"sync", 0, MS_SYNCHRONOUS}, {"async", 1, MS_SYNCHRONOUS}, {"dirsync", 0, MS_DIRSYNC},
  {"remount", 0, MS_REMOUNT}, {"mand", 0, MS_MANDLOCK}, {"nomand", 1, MS_MANDLOCK},
  {"noatime", 0, MS_NOATIME}, {"atime", 1, MS_NOATIME}, {"nodiratime", 0, MS_NODIRATIME},
  {"diratime", 1, MS_NODIRATIME}, {"relatime", 0, MS_RELATIME}, {"norelatime", 1, MS_RELATIME},
  {"strictatime", 0, MS_STRICTATIME}, {"nostrictatime", 1, MS_STRICTATIME},
};

static const struct { const char *name; unsigned long flag; } PROPAGATION[] = {
  {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
  {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
  {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static unsigned long propagation_of(const char *s) {
  for (size_t i = 0; i < sizeof PROPAGATION / sizeof *PROPAGATION; i++)
    if (!strcmp(s, PROPAGATION[i].name)) return PROPAGATION[i].flag;
  return 0;
}

void parse_mount_options(mount_spec *m, char **opts) {
  size_t cap = 1;
  for (char **o = opts; o && *o; o++) cap += strlen(*o) + 1;
  m->data = calloc(cap, 1);
  for (char **o = opts; o && *o; o++) {
    const char *opt = *o;
    int known = 0;
    for (size_t i = 0; i < sizeof MOUNT_FLAGS / sizeof *MOUNT_FLAGS; i++) {
      if (strcmp(opt, MOUNT_FLAGS[i].name)) continue;
      if (MOUNT_FLAGS[i].clear) { m->flags &= ~MOUNT_FLAGS[i].flag; m->clear |= MOUNT_FLAGS[i].flag; }
      else { m->flags |= MOUNT_FLAGS[i].flag; m->clear &= ~MOUNT_FLAGS[i].flag; }
      known = 1;
    }
    if (!strcmp(opt, "bind")) { m->bind = 1; known = 1; }
    else if (!strcmp(opt, "rbind")) { m->bind = 1; m->recursive = 1; known = 1; }
    else if (propagation_of(opt)) { m->propagation = propagation_of(opt); known = 1; }
    if (!known) {
      if (*m->data) strcat(m->data, ",");
      strcat(m->data, opt);
    }
  }
}

static const struct { const char *name; int flag; } NAMESPACES[] = {
  {"pid", CLONE_NEWPID}, {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS}, {"ipc", CLONE_NEWIPC},
  {"uts", CLONE_NEWUTS}, {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP},
#ifdef CLONE_NEWTIME
  {"time", CLONE_NEWTIME},
#endif
};

static int capset_of(const json *caps, const char *key, uint64_t *out, serr_t *e) {
  json *arr = jarr(caps, key);
  *out = 0;
  if (!arr) return 0;
  for (size_t i = 0; i < arr->n; i++) {
    if (arr->items[i]->t != J_STR) return fail(e, "config", 0, "process.capabilities.%s: names must be strings", key);
    int c = cap_from_name(arr->items[i]->s);
    /* Like runc: a capability this helper does not know is left out, not an error. */
    if (c >= 0) *out |= 1ULL << c;
  }
  return 0;
}

int spec_process(process_spec *p, const json *proc, serr_t *e) {
  if (!proc || proc->t != J_OBJ) return fail(e, "config", 0, "config.json has no \"process\" object");
  p->terminal = jbool(proc, "terminal", 0);
  p->args = jstrings(jarr(proc, "args"));
  if (!p->args || !p->args[0]) return fail(e, "config", 0, "process.args must hold at least the program to run");
  p->env = jstrings(jarr(proc, "env"));
  if (!p->env) p->env = calloc(1, sizeof(char *));
  p->cwd = jstr(proc, "cwd");
  if (!p->cwd) p->cwd = "/";
  if (p->cwd[0] != '/') return fail(e, "config", 0, "process.cwd \"%s\" must be an absolute path", p->cwd);
  json *user = jobj(proc, "user");
  int64_t v;
  if (jint(user, "uid", &v)) p->uid = (uid_t)v;
  if (jint(user, "gid", &v)) p->gid = (gid_t)v;
  if (jint(user, "umask", &v)) { p->has_umask = 1; p->umask = (mode_t)v; }
  json *gids = jarr(user, "additionalGids");
  if (gids) {
    p->gids = calloc(gids->n + 1, sizeof(gid_t));
    for (size_t i = 0; i < gids->n; i++) p->gids[p->ngids++] = (gid_t)gids->items[i]->i;
  }
  json *caps = jobj(proc, "capabilities");
  if (caps) {
    p->has_caps = 1;
    if (capset_of(caps, "bounding", &p->caps[CAPSET_BOUNDING], e) || capset_of(caps, "effective", &p->caps[CAPSET_EFFECTIVE], e) ||
        capset_of(caps, "permitted", &p->caps[CAPSET_PERMITTED], e) || capset_of(caps, "inheritable", &p->caps[CAPSET_INHERITABLE], e) ||
        capset_of(caps, "ambient", &p->caps[CAPSET_AMBIENT], e))
      return -1;
  }
  p->no_new_privileges = jbool(proc, "noNewPrivileges", 0);
  json *rl = jarr(proc, "rlimits");
  if (rl) {
    p->rlimits = calloc(rl->n + 1, sizeof *p->rlimits);
    for (size_t i = 0; i < rl->n; i++) {
      const char *type = jstr(rl->items[i], "type");
      int res = -1;
      for (size_t k = 0; type && k < sizeof RLIMITS / sizeof *RLIMITS; k++) if (!strcmp(type, RLIMITS[k].name)) res = RLIMITS[k].res;
      if (res < 0) return fail(e, "config", 0, "process.rlimits: unknown type \"%s\"", type ? type : "");
      rlimit_spec *r = &p->rlimits[p->nrlimits++];
      r->resource = res;
      juint(rl->items[i], "soft", &r->soft);
      juint(rl->items[i], "hard", &r->hard);
    }
  }
  if (jint(proc, "oomScoreAdj", &v)) { p->has_oom_score_adj = 1; p->oom_score_adj = (int)v; }
  return 0;
}

int spec_has_namespace(const oci_spec *s, int type) {
  for (size_t i = 0; i < s->nnamespaces; i++) if (s->namespaces[i].type == type) return 1;
  return 0;
}

int spec_load(oci_spec *s, const char *path, serr_t *e) {
  memset(s, 0, sizeof *s);
  json *j = json_load(path, e);
  if (!j) return -1;
  if (j->t != J_OBJ) return fail(e, "config", 0, "%s: not a JSON object", path);
  s->root_json = j;
  if (spec_process(&s->process, jobj(j, "process"), e)) return -1;
  json *root = jobj(j, "root");
  s->root_path = jstr(root, "path");
  if (!s->root_path) return fail(e, "config", 0, "config.json has no root.path");
  s->root_readonly = jbool(root, "readonly", 0);
  s->hostname = jstr(j, "hostname");
  s->domainname = jstr(j, "domainname");

  json *mounts = jarr(j, "mounts");
  if (mounts) {
    s->mounts = calloc(mounts->n + 1, sizeof *s->mounts);
    for (size_t i = 0; i < mounts->n; i++) {
      json *mj = mounts->items[i];
      mount_spec *m = &s->mounts[s->nmounts++];
      m->destination = jstr(mj, "destination");
      if (!m->destination || m->destination[0] != '/') return fail(e, "config", 0, "mounts[%zu]: destination must be an absolute path", i);
      m->type = jstr(mj, "type");
      m->source = jstr(mj, "source");
      json *opts = jarr(mj, "options");
      char **o = jstrings(opts);
      if (opts && !o) return fail(e, "config", 0, "mounts[%zu]: options must be strings", i);
      parse_mount_options(m, o);
      if (m->type && !strcmp(m->type, "bind")) m->bind = 1;
      if (!m->type) m->type = m->bind ? "bind" : "none";
      if (m->bind && !m->source) return fail(e, "config", 0, "mounts[%zu] (%s): a bind mount needs a source", i, m->destination);
    }
  }

  json *linux_ = jobj(j, "linux");
  json *nss = jarr(linux_, "namespaces");
  if (nss) {
    s->namespaces = calloc(nss->n + 1, sizeof *s->namespaces);
    for (size_t i = 0; i < nss->n; i++) {
      const char *type = jstr(nss->items[i], "type");
      int flag = 0;
      for (size_t k = 0; type && k < sizeof NAMESPACES / sizeof *NAMESPACES; k++) if (!strcmp(type, NAMESPACES[k].name)) flag = NAMESPACES[k].flag;
      if (!flag) return fail(e, "config", 0, "linux.namespaces: unknown type \"%s\"", type ? type : "");
      if (flag == CLONE_NEWUSER) return fail(e, "config", 0, "linux.namespaces: user namespaces are not supported by skiff-runtime yet");
      s->namespaces[s->nnamespaces].type = flag;
      s->namespaces[s->nnamespaces++].path = jstr(nss->items[i], "path");
    }
  }
  s->masked_paths = jstrings(jarr(linux_, "maskedPaths"));
  s->readonly_paths = jstrings(jarr(linux_, "readonlyPaths"));
  s->sysctl = jobj(linux_, "sysctl");
  s->seccomp = jobj(linux_, "seccomp");
  s->device_rules = jarr(jobj(linux_, "resources"), "devices");
  const char *prop = jstr(linux_, "rootfsPropagation");
  s->rootfs_propagation = prop ? propagation_of(prop) : 0;
  if (prop && !s->rootfs_propagation) return fail(e, "config", 0, "linux.rootfsPropagation: unknown value \"%s\"", prop);
  if (!s->rootfs_propagation) s->rootfs_propagation = MS_PRIVATE | MS_REC;

  json *devs = jarr(linux_, "devices");
  if (devs) {
    s->devices = calloc(devs->n + 1, sizeof *s->devices);
    for (size_t i = 0; i < devs->n; i++) {
      json *d = devs->items[i];
      device_spec *dv = &s->devices[s->ndevices++];
      dv->path = jstr(d, "path");
      const char *type = jstr(d, "type");
      if (!dv->path || !type || dv->path[0] != '/') return fail(e, "config", 0, "linux.devices[%zu]: needs an absolute path and a type", i);
      dv->type = type[0];
      jint(d, "major", &dv->major);
      jint(d, "minor", &dv->minor);
      int64_t v;
      dv->mode = jint(d, "fileMode", &v) ? (mode_t)v : 0666;
      dv->uid = jint(d, "uid", &v) ? (uid_t)v : 0;
      dv->gid = jint(d, "gid", &v) ? (gid_t)v : 0;
    }
  }

  json *ann = jobj(j, "annotations");
  s->overlay_options = jstr(ann, "org.skiff.rootfs.overlay");
  s->overlay_dir = jstr(ann, "org.skiff.rootfs.overlay.dir");
  const char *oflags = jstr(ann, "org.skiff.rootfs.overlay.flags");
  if (oflags) {
    mount_spec tmp = {0};
    char *copy = strdup(oflags), *save = NULL, *list[32] = {0};
    size_t n = 0;
    for (char *t = strtok_r(copy, ",", &save); t && n < 31; t = strtok_r(NULL, ",", &save)) list[n++] = t;
    parse_mount_options(&tmp, list);
    s->overlay_flags = tmp.flags;
  }
  return 0;
}
