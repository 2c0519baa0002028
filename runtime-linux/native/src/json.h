/* A small JSON reader for config.json: a tree of nodes, allocated once, never freed. */
#ifndef SKIFF_JSON_H
#define SKIFF_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct json {
  jtype t;
  int b;
  double num;
  int64_t i;     /* the number as an integer when it is one */
  uint64_t u;    /* the number as an unsigned integer (for seccomp values) */
  char *s;
  size_t n;      /* items in an array or object */
  struct json **items;
  char **keys;   /* object keys, parallel to items */
} json;

json *json_parse(const char *text, serr_t *e);
/* Reads and parses a whole file. */
json *json_load(const char *path, serr_t *e);

/* Lookups return NULL when absent or of another type. */
json *jget(const json *obj, const char *key);
json *jobj(const json *obj, const char *key);
json *jarr(const json *obj, const char *key);
const char *jstr(const json *obj, const char *key);
/* 1/0 for a boolean, dflt when absent. */
int jbool(const json *obj, const char *key, int dflt);
/* Returns 1 and sets *out when the key holds a number. */
int jint(const json *obj, const char *key, int64_t *out);
int juint(const json *obj, const char *key, uint64_t *out);

/* NULL-terminated copy of an array of strings; NULL when not an array of strings. */
char **jstrings(const json *arr);

#endif
