// Applets that move text: echo, cat, head, tee, wc, seq, env.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolbox.h"

// echo [-neE] ARGS: an option word is one made only of n, e and E (as in bash).
int applet_echo(tb_ctx *c, int argc, char **argv) {
  int newline = 1, escapes = 0, i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || !a[1] || strspn(a + 1, "neE") != strlen(a + 1)) break;
    for (const char *p = a + 1; *p; p++) {
      if (*p == 'n') newline = 0;
      else escapes = *p == 'e';
    }
  }
  for (int first = 1; i < argc; i++, first = 0) {
    if (!first) tb_write(c->out, " ", 1);
    const char *p = argv[i];
    if (!escapes) {
      tb_puts(c->out, p);
      continue;
    }
    for (; *p; p++) {
      char ch = *p;
      if (ch == '\\' && p[1]) {
        p++;
        switch (*p) {
          case 'a': ch = '\a'; break;
          case 'b': ch = '\b'; break;
          case 'c': return 0;  // \c: no further output at all
          case 'e': ch = 27; break;
          case 'f': ch = '\f'; break;
          case 'n': ch = '\n'; break;
          case 'r': ch = '\r'; break;
          case 't': ch = '\t'; break;
          case 'v': ch = '\v'; break;
          case '\\': ch = '\\'; break;
          case '0': {  // \0NNN, octal
            int v = 0, k = 0;
            while (k < 3 && p[1] >= '0' && p[1] <= '7') v = v * 8 + (*++p - '0'), k++;
            ch = (char)v;
            break;
          }
          case 'x': {  // \xHH
            int v = 0, k = 0;
            for (; k < 2; k++) {
              char h = p[1];
              int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
              if (d < 0) break;
              v = v * 16 + d, p++;
            }
            if (k == 0) {
              tb_write(c->out, "\\x", 2);
              continue;
            }
            ch = (char)v;
            break;
          }
          default: tb_write(c->out, "\\", 1); ch = *p;
        }
      }
      tb_write(c->out, &ch, 1);
    }
  }
  if (newline) tb_write(c->out, "\n", 1);
  return 0;
}

// Opens an operand for reading: "-" is the applet's input.
static tb_stream *open_input(tb_ctx *c, const char *applet, const char *path) {
  if (!strcmp(path, "-")) return c->in;
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    tb_fail(c, applet, path, errno);
    return NULL;
  }
  return tb_stream_fd(fd, 0);
}

static void close_input(tb_ctx *c, tb_stream *s) {
  if (s == c->in) return;
  close(s->fd);
  tb_stream_free(s);
}

int applet_cat(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "u", &o);
  if (i < 0) return 2;
  char *stdin_only[] = {"-"};
  char **files = i < argc ? argv + i : stdin_only;
  int n = i < argc ? argc - i : 1, status = 0;
  char *buf = tb_alloc(65536);
  for (int k = 0; k < n; k++) {
    tb_stream *in = open_input(c, "cat", files[k]);
    if (!in) {
      status = 1;
      continue;
    }
    ssize_t r;
    while ((r = tb_read(in, buf, 65536)) > 0) tb_write(c->out, buf, (size_t)r);
    if (r < 0) status = tb_fail(c, "cat", files[k], errno);
    close_input(c, in);
  }
  free(buf);
  return status;
}

// head [-n N | -N] [FILE...]
int applet_head(tb_ctx *c, int argc, char **argv) {
  long lines = 10;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i], *num;
    if (!strcmp(a, "--")) {
      i++;
      break;
    }
    if (a[1] == 'n') num = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : "");
    else num = a + 1;
    char *end;
    lines = strtol(num, &end, 10);
    if (!*num || *end || lines < 0) {
      tb_printf(c->err, "head: invalid number of lines: '%s'\n", num);
      return 1;
    }
  }
  char *stdin_only[] = {"-"};
  char **files = i < argc ? argv + i : stdin_only;
  int n = i < argc ? argc - i : 1, status = 0;
  char *line = NULL;
  size_t cap = 0;
  for (int k = 0; k < n; k++) {
    tb_stream *in = open_input(c, "head", files[k]);
    if (!in) {
      status = 1;
      continue;
    }
    if (n > 1) tb_printf(c->out, "%s==> %s <==\n", k ? "\n" : "", !strcmp(files[k], "-") ? "standard input" : files[k]);
    ssize_t r = 0;
    for (long l = 0; l < lines && (r = tb_getline(in, &line, &cap)) > 0; l++) tb_write(c->out, line, (size_t)r);
    if (r < 0) status = tb_fail(c, "head", files[k], errno);
    close_input(c, in);
  }
  free(line);
  return status;
}

// tee [-a] [FILE...]: input to output and to every file.
int applet_tee(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "a", &o);
  if (i < 0) return 2;
  int n = argc - i, status = 0;
  int *fds = tb_alloc(sizeof(int) * (size_t)(n + 1));
  for (int k = 0; k < n; k++) {
    fds[k] = open(argv[i + k], O_WRONLY | O_CREAT | (o.on['a'] ? O_APPEND : O_TRUNC), 0666);
    if (fds[k] < 0) status = tb_fail(c, "tee", argv[i + k], errno);
  }
  char *buf = tb_alloc(65536);
  ssize_t r;
  while ((r = tb_read(c->in, buf, 65536)) > 0) {
    tb_write(c->out, buf, (size_t)r);
    for (int k = 0; k < n; k++) {
      if (fds[k] < 0) continue;
      for (ssize_t off = 0; off < r;) {
        ssize_t w = write(fds[k], buf + off, (size_t)(r - off));
        if (w < 0) {
          status = tb_fail(c, "tee", argv[i + k], errno);
          close(fds[k]);
          fds[k] = -1;
          break;
        }
        off += w;
      }
    }
  }
  for (int k = 0; k < n; k++)
    if (fds[k] >= 0) close(fds[k]);
  free(fds);
  free(buf);
  return status;
}

typedef struct counts {
  unsigned long long lines, words, bytes;
} counts;

static int count_stream(tb_stream *in, counts *t) {
  char *buf = tb_alloc(65536);
  int in_word = 0;
  ssize_t r;
  while ((r = tb_read(in, buf, 65536)) > 0) {
    t->bytes += (unsigned long long)r;
    for (ssize_t k = 0; k < r; k++) {
      char ch = buf[k];
      if (ch == '\n') t->lines++;
      int space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
      if (!space && !in_word) t->words++;
      in_word = !space;
    }
  }
  free(buf);
  return r < 0 ? -1 : 0;
}

static void print_counts(tb_ctx *c, const tb_opts *o, const counts *t, const char *name) {
  const char *sep = "";
  if (o->on['l']) tb_printf(c->out, "%llu", t->lines), sep = " ";
  if (o->on['w']) tb_printf(c->out, "%s%llu", sep, t->words), sep = " ";
  if (o->on['c']) tb_printf(c->out, "%s%llu", sep, t->bytes);
  if (name) tb_printf(c->out, " %s", name);
  tb_write(c->out, "\n", 1);
}

// wc [-lwc] [FILE...]: counts separated by one space, then the name.
int applet_wc(tb_ctx *c, int argc, char **argv) {
  tb_opts o;
  int i = tb_getopts(c, argc, argv, "lwc", &o);
  if (i < 0) return 2;
  if (!o.on['l'] && !o.on['w'] && !o.on['c']) o.on['l'] = o.on['w'] = o.on['c'] = 1;
  if (i == argc) {
    counts t = {0};
    if (count_stream(c->in, &t)) return tb_fail(c, "wc", "standard input", errno);
    print_counts(c, &o, &t, NULL);
    return 0;
  }
  counts total = {0};
  int status = 0;
  for (int k = i; k < argc; k++) {
    tb_stream *in = open_input(c, "wc", argv[k]);
    if (!in) {
      status = 1;
      continue;
    }
    counts t = {0};
    if (count_stream(in, &t)) status = tb_fail(c, "wc", argv[k], errno);
    else print_counts(c, &o, &t, argv[k]);
    close_input(c, in);
    total.lines += t.lines, total.words += t.words, total.bytes += t.bytes;
  }
  if (argc - i > 1) print_counts(c, &o, &total, "total");
  return status;
}

static int decimals(const char *s) {
  const char *dot = strchr(s, '.');
  return dot ? (int)strlen(dot + 1) : 0;
}

// seq [FIRST [INCREMENT]] LAST
int applet_seq(tb_ctx *c, int argc, char **argv) {
  if (argc < 2 || argc > 4) {
    tb_puts(c->err, "usage: seq [FIRST [INCREMENT]] LAST\n");
    return 1;
  }
  const char *first = argc > 2 ? argv[1] : "1", *inc = argc > 3 ? argv[2] : "1", *last = argv[argc - 1];
  const char *args[] = {first, inc, last};
  double v[3];
  int prec = 0;
  for (int k = 0; k < 3; k++) {
    char *end;
    v[k] = strtod(args[k], &end);
    if (!*args[k] || *end) {
      tb_printf(c->err, "seq: invalid number: '%s'\n", args[k]);
      return 1;
    }
    if (decimals(args[k]) > prec) prec = decimals(args[k]);
  }
  if (v[1] == 0) {
    tb_puts(c->err, "seq: the increment must not be zero\n");
    return 1;
  }
  if (prec == 0) {
    // Integers, the hot path of benchmarks: no printf per line.
    long long a = (long long)v[0], step = (long long)v[1], b = (long long)v[2];
    char num[24];
    for (long long x = a; step > 0 ? x <= b : x >= b; x += step) {
      int n = 0;
      unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
      num[sizeof num - 1] = '\n';
      do num[sizeof num - 2 - n++] = (char)('0' + u % 10), u /= 10;
      while (u);
      if (x < 0) num[sizeof num - 2 - n++] = '-';
      tb_write(c->out, num + sizeof num - 1 - n, (size_t)n + 1);
    }
    return 0;
  }
  for (long long k = 0;; k++) {
    double x = v[0] + (double)k * v[1];
    if (v[1] > 0 ? x > v[2] + 1e-9 : x < v[2] - 1e-9) break;
    tb_printf(c->out, "%.*f\n", prec, x);
  }
  return 0;
}

// env [-i] [NAME=VALUE...] [COMMAND [ARG...]]: prints the environment, or
// runs an applet with a changed one.
int applet_env(tb_ctx *c, int argc, char **argv) {
  int i = 1, clear = 0;
  if (i < argc && !strcmp(argv[i], "-i")) clear = 1, i++;
  tb_env env;
  if (clear) memset(&env, 0, sizeof env);
  else tb_env_copy(&env, c->env);
  for (; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq || eq == argv[i]) break;
    char *name = tb_strndup(argv[i], (size_t)(eq - argv[i]));
    tb_setenv(&env, name, eq + 1, 1);
    free(name);
  }
  int status = 0;
  if (i == argc) {
    for (size_t k = 0; k < env.n; k++)
      if (env.v[k].exported) tb_printf(c->out, "%s=%s\n", env.v[k].name, env.v[k].value);
  } else {
    tb_applet_fn fn = tb_find_applet(tb_basename(argv[i]));
    if (!fn) {
      tb_printf(c->err, "env: '%s': No such file or directory\n", argv[i]);
      status = 127;
    } else {
      tb_ctx sub = {c->in, c->out, c->err, &env};
      status = fn(&sub, argc - i, argv + i);
    }
  }
  tb_env_free(&env);
  return status;
}
