/*
 * The seccomp filter, compiled from config.json's linux.seccomp (the OCI format
 * that runc and crun read through libseccomp) straight into classic BPF:
 *
 *   arch != x86_64          -> kill (other ABIs would dodge the syscall numbers)
 *   nr has the x32 bit      -> ENOSYS
 *   for each rule in order: nr == N && all arg conditions -> the rule's action
 *   otherwise               -> defaultAction
 *
 * Syscall names this kernel's headers do not know are skipped, as runc does.
 */
#include "security.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct { const char *name; int nr; } SYSCALLS[] = {
#include "syscalls.inc"
};

static int syscall_nr(const char *name) {
  for (size_t i = 0; i < sizeof SYSCALLS / sizeof *SYSCALLS; i++)
    if (!strcmp(SYSCALLS[i].name, name)) return SYSCALLS[i].nr;
  return -1;
}

typedef struct {
  struct sock_filter *ins;
  size_t n, cap;
} prog;

static size_t emit(prog *p, struct sock_filter f) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 256;
    p->ins = realloc(p->ins, p->cap * sizeof *p->ins);
    if (!p->ins) abort();
  }
  p->ins[p->n] = f;
  return p->n++;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

/* A jump to point at the rule's end ("no match"), on its true or its false branch. */
typedef struct { size_t at; int on_true; } patch;

static int action_of(const char *name, const json *rule, const json *sc, uint32_t *out, serr_t *e) {
  int64_t err = EPERM;
  if (rule) { if (!jint(rule, "errnoRet", &err)) jint(sc, "defaultErrnoRet", &err); }
  else jint(sc, "defaultErrnoRet", &err);
  if (!name) return fail(e, "seccomp", 0, "a seccomp action is missing");
  if (!strcmp(name, "SCMP_ACT_ALLOW")) *out = SECCOMP_RET_ALLOW;
  else if (!strcmp(name, "SCMP_ACT_ERRNO")) *out = SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA);
  else if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD")) *out = SECCOMP_RET_KILL_THREAD;
  else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS")) *out = SECCOMP_RET_KILL_PROCESS;
  else if (!strcmp(name, "SCMP_ACT_TRAP")) *out = SECCOMP_RET_TRAP;
  else if (!strcmp(name, "SCMP_ACT_LOG")) *out = SECCOMP_RET_LOG;
  else if (!strcmp(name, "SCMP_ACT_TRACE")) *out = SECCOMP_RET_TRACE | ((uint32_t)err & SECCOMP_RET_DATA);
  else return fail(e, "seccomp", 0, "unknown seccomp action \"%s\"", name);
  return 0;
}

/* Emits one argument condition; jumps that mean "condition false" are recorded in fails. */
static int emit_cond(prog *p, const json *arg, patch *fails, size_t *nf, serr_t *e) {
  int64_t idx;
  uint64_t v = 0, v2 = 0;
  if (!jint(arg, "index", &idx) || idx < 0 || idx > 5) return fail(e, "seccomp", 0, "seccomp args: index must be 0..5");
  juint(arg, "value", &v);
  juint(arg, "valueTwo", &v2);
  const char *op = jstr(arg, "op");
  if (!op) return fail(e, "seccomp", 0, "seccomp args: op is missing");
  uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
  if (!strcmp(op, "SCMP_CMP_EQ") || !strcmp(op, "SCMP_CMP_MASKED_EQ")) {
    int masked = op[9] == 'M';
    uint32_t whi = masked ? (uint32_t)(v2 >> 32) : hi, wlo = masked ? (uint32_t)v2 : lo;
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(idx)));
    if (masked) emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, hi));
    fails[(*nf)++] = (patch){ emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, whi, 0, 0)), 0 };
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(idx)));
    if (masked) emit(p, STMT(BPF_ALU | BPF_AND | BPF_K, lo));
    fails[(*nf)++] = (patch){ emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, wlo, 0, 0)), 0 };
  } else if (!strcmp(op, "SCMP_CMP_NE")) {
    /* hi != -> pass (skip the low check); hi == and lo == -> fail. */
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(idx)));
    emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 2));
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(idx)));
    fails[(*nf)++] = (patch){ emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, lo, 0, 0)), 1 };
  } else if (!strcmp(op, "SCMP_CMP_GT") || !strcmp(op, "SCMP_CMP_GE") || !strcmp(op, "SCMP_CMP_LT") || !strcmp(op, "SCMP_CMP_LE")) {
    /*
     * Unsigned 64-bit X = (arg > v) for GT/LE, (arg >= v) for GE/LT; GT/GE pass
     * when X holds, LT/LE when it does not. The high word decides unless equal.
     */
    int inclusive = !strcmp(op, "SCMP_CMP_GE") || !strcmp(op, "SCMP_CMP_LT");
    int pass_on_x = !strcmp(op, "SCMP_CMP_GT") || !strcmp(op, "SCMP_CMP_GE");
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(idx)));
    size_t j1 = emit(p, JUMP(BPF_JMP | BPF_JGT | BPF_K, hi, 0, 0)); /* hi > H: X */
    size_t j2 = emit(p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 0)); /* hi < H: not X */
    emit(p, STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(idx)));
    size_t j3 = emit(p, JUMP(BPF_JMP | (inclusive ? BPF_JGE : BPF_JGT) | BPF_K, lo, 0, 0));
    size_t after = p->n;
    if (pass_on_x) {
      p->ins[j1].jt = (uint8_t)(after - j1 - 1);
      fails[(*nf)++] = (patch){ j2, 0 };
      fails[(*nf)++] = (patch){ j3, 0 };
    } else {
      fails[(*nf)++] = (patch){ j1, 1 };
      p->ins[j2].jf = (uint8_t)(after - j2 - 1);
      fails[(*nf)++] = (patch){ j3, 1 };
    }
  } else {
    return fail(e, "seccomp", 0, "unsupported seccomp comparison \"%s\"", op);
  }
  return 0;
}

int apply_seccomp(const json *sc, serr_t *e) {
  if (!sc) return 0;
  uint32_t dflt;
  if (action_of(jstr(sc, "defaultAction"), NULL, sc, &dflt, e) < 0) return -1;
  prog p = {0};
  emit(&p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  emit(&p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
  emit(&p, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  emit(&p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
  emit(&p, JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));
  emit(&p, STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));

  json *rules = jarr(sc, "syscalls");
  for (size_t r = 0; rules && r < rules->n; r++) {
    json *rule = rules->items[r];
    uint32_t act;
    if (action_of(jstr(rule, "action"), rule, sc, &act, e) < 0) return -1;
    if (act == dflt && !jarr(rule, "args")) continue;
    json *names = jarr(rule, "names");
    json *args = jarr(rule, "args");
    for (size_t k = 0; names && k < names->n; k++) {
      if (names->items[k]->t != J_STR) continue;
      int nr = syscall_nr(names->items[k]->s);
      if (nr < 0) continue;
      patch fails[64];
      size_t nf = 0;
      size_t start = p.n;
      emit(&p, STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
      fails[nf++] = (patch){ emit(&p, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 0)), 0 };
      for (size_t a = 0; args && a < args->n; a++) {
        if (nf > 56) return fail(e, "seccomp", 0, "too many argument conditions for %s", names->items[k]->s);
        if (emit_cond(&p, args->items[a], fails, &nf, e) < 0) return -1;
      }
      emit(&p, STMT(BPF_RET | BPF_K, act));
      size_t end = p.n;
      for (size_t f = 0; f < nf; f++) {
        size_t at = fails[f].at, dist = end - at - 1;
        if (dist > 255) return fail(e, "seccomp", 0, "the rule for %s is too long for a BPF jump", names->items[k]->s);
        if (fails[f].on_true) p.ins[at].jt = (uint8_t)dist;
        else p.ins[at].jf = (uint8_t)dist;
      }
      (void)start;
    }
  }
  emit(&p, STMT(BPF_RET | BPF_K, dflt));
  if (p.n > BPF_MAXINSNS) return fail(e, "seccomp", 0, "the seccomp filter has %zu instructions, more than the kernel's %d", p.n, BPF_MAXINSNS);

  struct sock_fprog fprog = { .len = (unsigned short)p.n, .filter = p.ins };
  unsigned int flags = 0;
  json *fl = jarr(sc, "flags");
  for (size_t i = 0; fl && i < fl->n; i++) {
    const char *f = fl->items[i]->t == J_STR ? fl->items[i]->s : "";
    if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    else if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG")) flags |= SECCOMP_FILTER_FLAG_LOG;
    else if (!strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC")) flags |= SECCOMP_FILTER_FLAG_TSYNC;
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) < 0) {
    int err = errno;
    free(p.ins);
    return fail(e, "seccomp", err, "load the seccomp filter (%zu instructions)", p.n);
  }
  free(p.ins);
  return 0;
}
