// test EXPR, [ EXPR ]: file tests, string and integer comparisons, !, -a, -o
// (the forms shell scripts use with && and ||). Status 0 true, 1 false, 2 error.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "toolbox.h"

typedef struct parser {
  tb_ctx *c;
  char **a;
  int n, i, error;
} parser;

static int is_int(const char *s, long long *v) {
  char *end;
  if (!*s) return 0;
  *v = strtoll(s, &end, 10);
  return !*end;
}

static int unary(parser *p, const char *op, const char *arg) {
  struct stat st;
  if (!strcmp(op, "-n")) return *arg != 0;
  if (!strcmp(op, "-z")) return *arg == 0;
  if (!strcmp(op, "-L") || !strcmp(op, "-h")) return lstat(arg, &st) == 0 && S_ISLNK(st.st_mode);
  int found = stat(arg, &st) == 0;
  switch (op[1]) {
    case 'e': return found;
    case 'f': return found && S_ISREG(st.st_mode);
    case 'd': return found && S_ISDIR(st.st_mode);
    case 's': return found && st.st_size > 0;
    case 'r': return found && access(arg, R_OK) == 0;
    case 'w': return found && access(arg, W_OK) == 0;
    case 'x': return found && access(arg, X_OK) == 0;
  }
  tb_printf(p->c->err, "test: %s: unknown operator\n", op);
  p->error = 1;
  return 0;
}

static int binary(parser *p, const char *l, const char *op, const char *r) {
  if (!strcmp(op, "=") || !strcmp(op, "==")) return !strcmp(l, r);
  if (!strcmp(op, "!=")) return strcmp(l, r) != 0;
  long long a, b;
  if (!is_int(l, &a) || !is_int(r, &b)) {
    tb_printf(p->c->err, "test: integer expression expected: %s %s %s\n", l, op, r);
    p->error = 1;
    return 0;
  }
  if (!strcmp(op, "-eq")) return a == b;
  if (!strcmp(op, "-ne")) return a != b;
  if (!strcmp(op, "-lt")) return a < b;
  if (!strcmp(op, "-le")) return a <= b;
  if (!strcmp(op, "-gt")) return a > b;
  return a >= b;  // -ge
}

static int is_binary_op(const char *s) {
  static const char *ops[] = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge"};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (!strcmp(s, ops[k])) return 1;
  return 0;
}

static int expr_or(parser *p);

static int primary(parser *p) {
  if (p->i >= p->n) {
    tb_puts(p->c->err, "test: argument expected\n");
    p->error = 1;
    return 0;
  }
  char **a = p->a;
  if (!strcmp(a[p->i], "!")) return p->i++, !primary(p);
  if (!strcmp(a[p->i], "(")) {
    p->i++;
    int v = expr_or(p);
    if (p->i >= p->n || strcmp(a[p->i], ")")) {
      tb_puts(p->c->err, "test: ')' expected\n");
      p->error = 1;
      return 0;
    }
    p->i++;
    return v;
  }
  if (p->i + 2 < p->n && is_binary_op(a[p->i + 1])) {
    int v = binary(p, a[p->i], a[p->i + 1], a[p->i + 2]);
    p->i += 3;
    return v;
  }
  if (a[p->i][0] == '-' && a[p->i][1] && !a[p->i][2] && p->i + 1 < p->n) {
    int v = unary(p, a[p->i], a[p->i + 1]);
    p->i += 2;
    return v;
  }
  return *a[p->i++] != 0;  // a lone string: true when not empty
}

static int expr_and(parser *p) {
  int v = primary(p);
  while (p->i < p->n && !strcmp(p->a[p->i], "-a")) p->i++, v = primary(p) && v;
  return v;
}

static int expr_or(parser *p) {
  int v = expr_and(p);
  while (p->i < p->n && !strcmp(p->a[p->i], "-o")) p->i++, v = expr_and(p) || v;
  return v;
}

int applet_test(tb_ctx *c, int argc, char **argv) {
  int n = argc - 1;
  if (!strcmp(tb_basename(argv[0]), "[")) {
    if (n < 1 || strcmp(argv[argc - 1], "]")) {
      tb_puts(c->err, "[: missing ']'\n");
      return 2;
    }
    n--;
  }
  if (n == 0) return 1;
  parser p = {c, argv + 1, n, 0, 0};
  int v = expr_or(&p);
  if (!p.error && p.i < p.n) {
    tb_printf(c->err, "test: %s: unexpected argument\n", p.a[p.i]);
    p.error = 1;
  }
  return p.error ? 2 : !v;
}
