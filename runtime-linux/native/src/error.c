#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fail(serr_t *e, const char *op, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof e->msg) n = sizeof e->msg - 1;
  if (errnum) snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(errnum));
  snprintf(e->op, sizeof e->op, "%s", op);
  e->errnum = errnum;
  return -1;
}

size_t json_escape_byte(unsigned char c, char *out) {
  static const char HEX[] = "0123456789abcdef";
  const char *two = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
  if (two) { memcpy(out, two, 2); return 2; }
  if (c >= 0x20) return 0;
  memcpy(out, "\\u00", 4);
  out[4] = HEX[c >> 4];
  out[5] = HEX[c & 15];
  return 6;
}

size_t json_quote(char *buf, size_t cap, const char *s) {
  size_t o = 0;
#define PUT(c) do { if (o + 1 < cap) buf[o] = (c); o++; } while (0)
  PUT('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char esc[6];
    size_t n = json_escape_byte(*p, esc);
    if (n == 0) PUT(*p);
    for (size_t k = 0; k < n; k++) PUT(esc[k]);
  }
  PUT('"');
#undef PUT
  if (cap) buf[o < cap ? o : cap - 1] = 0;
  return o < cap ? o : cap - 1;
}

void format_error_json(char *buf, size_t cap, const serr_t *e) {
  char msg[sizeof e->msg * 2 + 8], op[80];
  json_quote(msg, sizeof msg, e->msg);
  json_quote(op, sizeof op, e->op);
  snprintf(buf, cap, "{\"error\":%s,\"op\":%s,\"errno\":%d}\n", msg, op, e->errnum);
}
