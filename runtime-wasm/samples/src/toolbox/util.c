// Streams, variables, options and small helpers shared by the applets.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolbox.h"

#define TB_BUFSZ 65536

void *tb_alloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fputs("toolbox: out of memory\n", stderr);
    abort();
  }
  return p;
}

void *tb_realloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fputs("toolbox: out of memory\n", stderr);
    abort();
  }
  return p;
}

char *tb_strndup(const char *s, size_t n) {
  char *d = tb_alloc(n + 1);
  memcpy(d, s, n);
  return d;
}

char *tb_strdup(const char *s) { return tb_strndup(s, strlen(s)); }

char *tb_path_join(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  int slash = a > 0 && dir[a - 1] != '/';
  char *p = tb_alloc(a + slash + b + 1);
  memcpy(p, dir, a);
  if (slash) p[a] = '/';
  memcpy(p + a + slash, name, b);
  return p;
}

// The last component, ignoring trailing slashes ("a/b/" -> "b/").
const char *tb_basename(const char *path) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  size_t i = n;
  while (i > 0 && path[i - 1] != '/') i--;
  return path + i;
}

int tb_fail(tb_ctx *c, const char *applet, const char *what, int err) {
  tb_printf(c->err, "%s: %s: %s\n", applet, what, strerror(err));
  return 1;
}

int tb_getopts(tb_ctx *c, int argc, char **argv, const char *known, tb_opts *o) {
  memset(o, 0, sizeof *o);
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == 0) break;
    if (!strcmp(a, "--")) return i + 1;
    for (const char *p = a + 1; *p; p++) {
      if ((unsigned char)*p >= 128 || !strchr(known, *p)) {
        tb_printf(c->err, "%s: invalid option -- '%c'\n", argv[0], *p);
        return -1;
      }
      o->on[(unsigned char)*p] = 1;
    }
  }
  return i;
}

// ---- streams ----

tb_stream *tb_stream_fd(int fd, int unbuffered) {
  tb_stream *s = tb_alloc(sizeof *s);
  s->fd = fd;
  s->unbuffered = unbuffered;
  return s;
}

tb_stream *tb_stream_mem(void) { return tb_stream_fd(-1, 0); }

void tb_stream_free(tb_stream *s) {
  if (!s) return;
  tb_flush(s);
  free(s->buf);
  free(s);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w, n -= (size_t)w;
  }
  return 0;
}

static void reserve(tb_stream *s, size_t extra) {
  if (s->len + extra <= s->cap) return;
  size_t cap = s->cap ? s->cap : 256;
  while (cap < s->len + extra) cap *= 2;
  s->buf = tb_realloc(s->buf, cap);
  s->cap = cap;
}

int tb_write(tb_stream *s, const void *p, size_t n) {
  if (s->fd >= 0) {
    if (s->unbuffered) return write_all(s->fd, p, n);
    if (s->len + n > TB_BUFSZ) {
      if (tb_flush(s)) return -1;
      if (n >= TB_BUFSZ) return write_all(s->fd, p, n);
    }
  }
  reserve(s, n);
  memcpy(s->buf + s->len, p, n);
  s->len += n;
  return 0;
}

int tb_puts(tb_stream *s, const char *str) { return tb_write(s, str, strlen(str)); }

int tb_printf(tb_stream *s, const char *fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if ((size_t)n < sizeof small) return tb_write(s, small, (size_t)n);
  char *big = tb_alloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int r = tb_write(s, big, (size_t)n);
  free(big);
  return r;
}

int tb_flush(tb_stream *s) {
  if (s->fd < 0 || s->input || s->len == 0) return 0;
  int r = write_all(s->fd, s->buf, s->len);
  s->len = 0;
  return r;
}

ssize_t tb_read(tb_stream *s, void *p, size_t n) {
  s->input = 1;
  if (s->pos < s->len) {
    size_t k = s->len - s->pos < n ? s->len - s->pos : n;
    memcpy(p, s->buf + s->pos, k);
    s->pos += k;
    return (ssize_t)k;
  }
  if (s->fd < 0) return 0;
  for (;;) {
    ssize_t r = read(s->fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

ssize_t tb_getline(tb_stream *s, char **line, size_t *cap) {
  s->input = 1;
  size_t scan = s->pos;
  for (;;) {
    char *nl = memchr(s->buf + scan, '\n', s->len - scan);
    size_t end = nl ? (size_t)(nl - s->buf) + 1 : s->len;
    if (nl || s->fd < 0) {
      size_t n = end - s->pos;
      if (n == 0) return 0;
      if (*cap < n + 1) {
        *line = tb_realloc(*line, n + 1);
        *cap = n + 1;
      }
      memcpy(*line, s->buf + s->pos, n);
      (*line)[n] = 0;
      s->pos = end;
      return (ssize_t)n;
    }
    // Keep the unread part, then read more behind it.
    memmove(s->buf, s->buf + s->pos, s->len - s->pos);
    s->len -= s->pos;
    s->pos = 0;
    scan = s->len;
    reserve(s, 4096);
    ssize_t r;
    do r = read(s->fd, s->buf + s->len, s->cap - s->len);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
      // End of input: hand out what is left as the last line.
      if (s->len == 0) return r < 0 ? -1 : 0;
      size_t n = s->len;
      if (*cap < n + 1) {
        *line = tb_realloc(*line, n + 1);
        *cap = n + 1;
      }
      memcpy(*line, s->buf, n);
      (*line)[n] = 0;
      s->len = s->pos = 0;
      return (ssize_t)n;
    }
    s->len += (size_t)r;
  }
}

// ---- variables ----

int tb_valid_name(const char *s, size_t n) {
  if (n == 0 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return 0;
  for (size_t i = 1; i < n; i++)
    if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
      return 0;
  return 1;
}

static tb_var *find_var(const tb_env *e, const char *name) {
  for (size_t i = 0; i < e->n; i++)
    if (!strcmp(e->v[i].name, name)) return &e->v[i];
  return NULL;
}

const char *tb_getenv(const tb_env *e, const char *name) {
  tb_var *v = find_var(e, name);
  return v ? v->value : NULL;
}

void tb_setenv(tb_env *e, const char *name, const char *value, int export) {
  tb_var *v = find_var(e, name);
  if (v) {
    char *copy = tb_strdup(value);
    free(v->value);
    v->value = copy;
    if (export >= 0) v->exported = export;
    return;
  }
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 16;
    e->v = tb_realloc(e->v, e->cap * sizeof *e->v);
  }
  e->v[e->n++] = (tb_var){tb_strdup(name), tb_strdup(value), export > 0};
}

void tb_unsetenv(tb_env *e, const char *name) {
  tb_var *v = find_var(e, name);
  if (!v) return;
  free(v->name);
  free(v->value);
  *v = e->v[--e->n];
}

void tb_env_from_environ(tb_env *e) {
  extern char **environ;
  memset(e, 0, sizeof *e);
  for (char **p = environ; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (!eq) continue;
    char *name = tb_strndup(*p, (size_t)(eq - *p));
    tb_setenv(e, name, eq + 1, 1);
    free(name);
  }
}

void tb_env_copy(tb_env *dst, const tb_env *src) {
  memset(dst, 0, sizeof *dst);
  for (size_t i = 0; i < src->n; i++) tb_setenv(dst, src->v[i].name, src->v[i].value, src->v[i].exported);
}

void tb_env_free(tb_env *e) {
  for (size_t i = 0; i < e->n; i++) free(e->v[i].name), free(e->v[i].value);
  free(e->v);
  memset(e, 0, sizeof *e);
}
