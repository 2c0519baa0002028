/*
 * Errors: every function returns 0 or -1 and fills a serr_t whose message names
 * the operation, the object and errno ("mount proc on /proc: Operation not
 * permitted"). Nothing below main() prints or exits on its own.
 */
#ifndef SKIFF_ERROR_H
#define SKIFF_ERROR_H

#include <stddef.h>

typedef struct {
  int errnum;     /* 0 when the failure is not a system call's */
  char op[32];    /* a short stable tag: "mount", "exec", "config" ... */
  char msg[1536];
} serr_t;

/* Fills e with "<formatted>: strerror(errnum)" (errnum 0: no suffix); returns -1. */
int fail(serr_t *e, const char *op, int errnum, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The JSON escape of one byte (\" \\ \n \r \t, or \u00XX below 0x20) into out, which has room for 6; 0 when it needs none. */
size_t json_escape_byte(unsigned char c, char *out);
/* Writes s as a JSON string literal (with quotes) into buf; returns the length used. */
size_t json_quote(char *buf, size_t cap, const char *s);

/* One line of JSON for the TypeScript side: {"error":..,"op":..,"errno":..}. */
void format_error_json(char *buf, size_t cap, const serr_t *e);

#endif
