#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  const char *p;
  const char *start;
  serr_t *e;
  int depth;
} parser;

static void *xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz);
  if (!p) abort();
  return p;
}

static int perr(parser *ps, const char *what) {
  return fail(ps->e, "config", 0, "invalid JSON at byte %ld: %s", (long)(ps->p - ps->start), what);
}

static void ws(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r') ps->p++;
}

static json *value(parser *ps);

static void put_utf8(char **o, unsigned cp) {
  char *q = *o;
  if (cp < 0x80) *q++ = cp;
  else if (cp < 0x800) { *q++ = 0xc0 | (cp >> 6); *q++ = 0x80 | (cp & 0x3f); }
  else if (cp < 0x10000) { *q++ = 0xe0 | (cp >> 12); *q++ = 0x80 | ((cp >> 6) & 0x3f); *q++ = 0x80 | (cp & 0x3f); }
  else { *q++ = 0xf0 | (cp >> 18); *q++ = 0x80 | ((cp >> 12) & 0x3f); *q++ = 0x80 | ((cp >> 6) & 0x3f); *q++ = 0x80 | (cp & 0x3f); }
  *o = q;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  *out = v;
  return 0;
}

static char *string(parser *ps) {
  /* ps->p at the opening quote; the decoded string is never longer than the source. */
  const char *s = ++ps->p;
  const char *end = s;
  while (*end && *end != '"') { if (*end == '\\' && end[1]) end++; end++; }
  if (!*end) { perr(ps, "unterminated string"); return NULL; }
  char *out = xcalloc(end - s + 1, 1), *o = out;
  while (ps->p < end) {
    char c = *ps->p++;
    if (c != '\\') { *o++ = c; continue; }
    c = *ps->p++;
    switch (c) {
      case 'n': *o++ = '\n'; break;
      case 't': *o++ = '\t'; break;
      case 'r': *o++ = '\r'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'u': {
        unsigned cp;
        if (hex4(ps->p, &cp)) { perr(ps, "bad \\u escape"); return NULL; }
        ps->p += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          unsigned lo;
          if (!hex4(ps->p + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            ps->p += 6;
          }
        }
        put_utf8(&o, cp);
        break;
      }
      default: *o++ = c;
    }
  }
  *o = 0;
  ps->p = end + 1;
  return out;
}

static json *node(jtype t) {
  json *j = xcalloc(1, sizeof *j);
  j->t = t;
  return j;
}

static json *container(parser *ps, int obj) {
  json *j = node(obj ? J_OBJ : J_ARR);
  size_t cap = 0;
  char close = obj ? '}' : ']';
  ps->p++;
  ws(ps);
  if (*ps->p == close) { ps->p++; return j; }
  for (;;) {
    char *key = NULL;
    ws(ps);
    if (obj) {
      if (*ps->p != '"') { perr(ps, "expected a key"); return NULL; }
      if (!(key = string(ps))) return NULL;
      ws(ps);
      if (*ps->p != ':') { perr(ps, "expected ':'"); return NULL; }
      ps->p++;
    }
    json *v = value(ps);
    if (!v) return NULL;
    if (j->n == cap) {
      cap = cap ? cap * 2 : 8;
      j->items = realloc(j->items, cap * sizeof *j->items);
      if (obj) j->keys = realloc(j->keys, cap * sizeof *j->keys);
      if (!j->items || (obj && !j->keys)) abort();
    }
    if (obj) j->keys[j->n] = key;
    j->items[j->n++] = v;
    ws(ps);
    if (*ps->p == ',') { ps->p++; continue; }
    if (*ps->p == close) { ps->p++; return j; }
    perr(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    return NULL;
  }
}

static json *value(parser *ps) {
  if (++ps->depth > 64) { perr(ps, "nested too deeply"); return NULL; }
  ws(ps);
  json *j = NULL;
  char c = *ps->p;
  if (c == '{' || c == '[') j = container(ps, c == '{');
  else if (c == '"') {
    char *s = string(ps);
    if (s) { j = node(J_STR); j->s = s; }
  } else if (!strncmp(ps->p, "true", 4)) { j = node(J_BOOL); j->b = 1; ps->p += 4; }
  else if (!strncmp(ps->p, "false", 5)) { j = node(J_BOOL); ps->p += 5; }
  else if (!strncmp(ps->p, "null", 4)) { j = node(J_NULL); ps->p += 4; }
  else if (c == '-' || (c >= '0' && c <= '9')) {
    char *end;
    j = node(J_NUM);
    j->num = strtod(ps->p, &end);
    int integral = 1;
    for (const char *q = ps->p; q < end; q++) if (*q == '.' || *q == 'e' || *q == 'E') integral = 0;
    if (integral) {
      errno = 0;
      if (c == '-') { j->i = strtoll(ps->p, NULL, 10); j->u = (uint64_t)j->i; }
      else { j->u = strtoull(ps->p, NULL, 10); j->i = (int64_t)j->u; }
    } else {
      j->i = (int64_t)j->num;
      j->u = (uint64_t)j->num;
    }
    ps->p = end;
  } else perr(ps, "unexpected character");
  ps->depth--;
  return j;
}

json *json_parse(const char *text, serr_t *e) {
  parser ps = { text, text, e, 0 };
  json *j = value(&ps);
  if (!j) return NULL;
  ws(&ps);
  if (*ps.p) { perr(&ps, "trailing characters"); return NULL; }
  return j;
}

json *json_load(const char *path, serr_t *e) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { fail(e, "config", errno, "open %s", path); return NULL; }
  struct stat st;
  if (fstat(fd, &st) < 0) { fail(e, "config", errno, "stat %s", path); close(fd); return NULL; }
  size_t cap = st.st_size + 1, n = 0;
  char *buf = xcalloc(cap + 1, 1);
  for (;;) {
    if (n == cap) { cap *= 2; buf = realloc(buf, cap + 1); if (!buf) abort(); }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) { if (errno == EINTR) continue; fail(e, "config", errno, "read %s", path); close(fd); return NULL; }
    if (r == 0) break;
    n += r;
  }
  close(fd);
  buf[n] = 0;
  json *j = json_parse(buf, e);
  if (!j) {
    char inner[sizeof e->msg];
    memcpy(inner, e->msg, sizeof inner);
    fail(e, "config", 0, "%s: %s", path, inner);
  }
  return j;
}

json *jget(const json *obj, const char *key) {
  if (!obj || obj->t != J_OBJ) return NULL;
  for (size_t i = 0; i < obj->n; i++) if (!strcmp(obj->keys[i], key)) return obj->items[i];
  return NULL;
}

json *jobj(const json *obj, const char *key) {
  json *v = jget(obj, key);
  return v && v->t == J_OBJ ? v : NULL;
}

json *jarr(const json *obj, const char *key) {
  json *v = jget(obj, key);
  return v && v->t == J_ARR ? v : NULL;
}

const char *jstr(const json *obj, const char *key) {
  json *v = jget(obj, key);
  return v && v->t == J_STR ? v->s : NULL;
}

int jbool(const json *obj, const char *key, int dflt) {
  json *v = jget(obj, key);
  return v && v->t == J_BOOL ? v->b : dflt;
}

int jint(const json *obj, const char *key, int64_t *out) {
  json *v = jget(obj, key);
  if (!v || v->t != J_NUM) return 0;
  *out = v->i;
  return 1;
}

int juint(const json *obj, const char *key, uint64_t *out) {
  json *v = jget(obj, key);
  if (!v || v->t != J_NUM) return 0;
  *out = v->u;
  return 1;
}

char **jstrings(const json *arr) {
  if (!arr || arr->t != J_ARR) return NULL;
  char **out = xcalloc(arr->n + 1, sizeof *out);
  for (size_t i = 0; i < arr->n; i++) {
    if (arr->items[i]->t != J_STR) return NULL;
    out[i] = arr->items[i]->s;
  }
  return out;
}
