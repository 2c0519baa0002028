/*
 * The cgroup v2 device controller: cgroup2 has no devices.allow file; the
 * kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup
 * instead (runc and crun do the same). The rules are the OCI
 * linux.resources.devices list the TypeScript side wrote (the policy); this
 * file only compiles them into eBPF and attaches the program.
 *
 * The program sees {access_type = access << 16 | type, major, minor} and
 * returns 1 to allow, 0 to refuse (EPERM). Rules are checked last first, so a
 * later rule overrides an earlier one, as with the v1 files; a rule matches
 * when its type, major and minor match (absent = any) and the access asked
 * for is within its access letters.
 */
#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CGROUP2_MAGIC 0x63677270
#define MAX_INSNS 4096

typedef struct {
  struct bpf_insn *insn;
  int n;
} prog_t;

static void emit(prog_t *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  if (p->n >= MAX_INSNS) { p->n++; return; }
  struct bpf_insn *i = &p->insn[p->n++];
  memset(i, 0, sizeof *i);
  i->code = code;
  i->dst_reg = dst;
  i->src_reg = src;
  i->off = off;
  i->imm = imm;
}

/* Access letters to BPF_DEVCG_ACC_* bits; -1 on a letter that is not r, w or m. */
static int access_bits(const char *s) {
  if (!s) return BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  int bits = 0;
  for (; *s; s++) {
    if (*s == 'r') bits |= BPF_DEVCG_ACC_READ;
    else if (*s == 'w') bits |= BPF_DEVCG_ACC_WRITE;
    else if (*s == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    else return -1;
  }
  return bits;
}

int devices_compile(const json *rules, struct bpf_insn **out, int *count, serr_t *e) {
  prog_t p = { calloc(MAX_INSNS, sizeof(struct bpf_insn)), 0 };
  if (!p.insn) return fail(e, "devices", ENOMEM, "compile the device rules");
  /* r2 = type, r3 = access, r4 = major, r5 = minor (32-bit loads clear the upper halves). */
  emit(&p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
  emit(&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  emit(&p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
  emit(&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  emit(&p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
  emit(&p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
  size_t n = rules ? rules->n : 0;
  int settled = 0; /* an unconditional rule was emitted: what follows could never run (the verifier refuses dead code) */
  for (size_t k = n; k-- > 0 && !settled;) {
    const json *r = rules->items[k];
    if (r->t != J_OBJ) { free(p.insn); return fail(e, "config", 0, "linux.resources.devices[%zu] is not an object", k); }
    int allow = jbool(r, "allow", -1);
    if (allow < 0) { free(p.insn); return fail(e, "config", 0, "linux.resources.devices[%zu] needs \"allow\": true or false", k); }
    const char *type = jstr(r, "type");
    int devtype = 0;
    if (type && !strcmp(type, "c")) devtype = BPF_DEVCG_DEV_CHAR;
    else if (type && !strcmp(type, "b")) devtype = BPF_DEVCG_DEV_BLOCK;
    else if (type && strcmp(type, "a")) { free(p.insn); return fail(e, "config", 0, "linux.resources.devices[%zu]: type \"%s\" is not a, b or c", k, type); }
    int acc = access_bits(jstr(r, "access"));
    if (acc < 0) { free(p.insn); return fail(e, "config", 0, "linux.resources.devices[%zu]: access \"%s\" has letters other than r, w, m", k, jstr(r, "access")); }
    int64_t major = -1, minor = -1;
    jint(r, "major", &major);
    jint(r, "minor", &minor);
    /* The block: tests that jump past it, then the verdict. Its length is known up front. */
    int tests = (devtype ? 1 : 0) + (acc != 7 ? 3 : 0) + (major >= 0 ? 1 : 0) + (minor >= 0 ? 1 : 0);
    int len = tests + 2, at = 0;
#define SKIP (int16_t)(len - at - 1)
    if (devtype) { emit(&p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, SKIP, devtype); at++; }
    if (acc != 7) {
      /* The access asked for must be within the rule's: (r3 & acc) == r3. */
      emit(&p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0); at++;
      emit(&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, acc); at++;
      emit(&p, BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, SKIP, 0); at++;
    }
    if (major >= 0) { emit(&p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, SKIP, (int32_t)major); at++; }
    if (minor >= 0) { emit(&p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, SKIP, (int32_t)minor); at++; }
#undef SKIP
    emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, allow ? 1 : 0);
    emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    settled = tests == 0;
  }
  if (!settled) {
    /* Nothing matched: refuse. */
    emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
    emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  if (p.n > MAX_INSNS) { free(p.insn); return fail(e, "devices", E2BIG, "%zu device rules make too long a program", n); }
  *out = p.insn;
  *count = p.n;
  return 0;
}

static int bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int load_program(const struct bpf_insn *insn, int count, serr_t *e) {
  static char log[16384];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insn;
  a.insn_cnt = (uint32_t)count;
  a.license = (uint64_t)(uintptr_t)"Apache";
  int fd = bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return fd;
  int err = errno;
  if (err != EINVAL && err != EACCES) return fail(e, "devices", err, "load the device filter (BPF_PROG_LOAD; the kernel needs CONFIG_CGROUP_BPF)");
  /* The verifier refused it: load again for its log, to say why. */
  log[0] = 0;
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = sizeof log;
  a.log_level = 1;
  fd = bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) return fd;
  size_t l = strlen(log);
  while (l && log[l - 1] == '\n') log[--l] = 0;
  const char *last = strrchr(log, '\n');
  return fail(e, "devices", err, "the kernel's verifier refused the device filter (%s)", last ? last + 1 : log);
}

/* Programs attached to the cgroup before ours, to detach once ours is on (a restart attaches afresh). */
static int attached_ids(int cgfd, uint32_t *ids, uint32_t cap) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.query.target_fd = (uint32_t)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = cap;
  if (bpf(BPF_PROG_QUERY, &a) < 0) return 0;
  return (int)a.query.prog_cnt;
}

static void detach(int cgfd, uint32_t id) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_id = id;
  int fd = bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0) return;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  bpf(BPF_PROG_DETACH, &a);
  close(fd);
}

int devices_attach(const json *rules, char **cgroups, int n, serr_t *e) {
  if (!rules) return 0; /* no rules: no restriction, as runc */
  struct bpf_insn *insn = NULL;
  int count = 0, prog = -1;
  for (int i = 0; i < n; i++) {
    struct statfs sf;
    if (statfs(cgroups[i], &sf) < 0 || sf.f_type != CGROUP2_MAGIC) continue;
    if (prog < 0) {
      if (devices_compile(rules, &insn, &count, e) < 0) return -1;
      prog = load_program(insn, count, e);
      free(insn);
      if (prog < 0) return -1;
    }
    int cgfd = open(cgroups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0) { int err = errno; close(prog); return fail(e, "devices", err, "open cgroup %s", cgroups[i]); }
    uint32_t old[64];
    int nold = attached_ids(cgfd, old, 64);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.target_fd = (uint32_t)cgfd;
    a.attach_bpf_fd = (uint32_t)prog;
    a.attach_type = BPF_CGROUP_DEVICE;
    /* MULTI: a parent's program (systemd's, say) keeps running beside ours; all must allow. */
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &a) < 0) {
      int err = errno;
      close(cgfd);
      close(prog);
      return fail(e, "devices", err, "attach the device filter to %s (BPF_PROG_ATTACH)", cgroups[i]);
    }
    for (int k = 0; k < nold; k++) detach(cgfd, old[k]);
    close(cgfd);
  }
  if (prog >= 0) close(prog); /* the attachment keeps it */
  return 0;
}

/*
 * `skiff-runtime devices --cgroup DIR...`: attaches the filter for the OCI
 * device rules read from stdin (a JSON array) to each cgroup2 directory.
 */
int cmd_devices(int argc, char **argv) {
  char *cgroups[16];
  int n = 0;
  for (int i = 0; i < argc; i += 2) {
    if (i + 1 >= argc || strcmp(argv[i], "--cgroup") || n >= 16) return usage_error("devices", argv[i]);
    cgroups[n++] = argv[i + 1];
  }
  static char buf[1 << 20];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof buf - 1 && (r = read(0, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
  buf[len] = 0;
  serr_t e = {0};
  json *rules = json_parse(buf, &e);
  if (!rules || rules->t != J_ARR) {
    if (!e.msg[0]) fail(&e, "config", 0, "the device rules on stdin must be a JSON array");
  } else if (devices_attach(rules, cgroups, n, &e) == 0) {
    return 0;
  }
  char line[2048];
  format_error_json(line, sizeof line, &e);
  fprintf(stderr, "%s\n", line);
  return 1;
}
