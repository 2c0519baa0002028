// args: the arguments after argv[0] and the environment variables whose
// names start with T_ (sorted), then getenv, setenv and unsetenv.
#include "common.h"

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
  printf("argc: %d\n", argc);
  for (int i = 1; i < argc; i++) printf("argv[%d]: [%s] %zu bytes\n", i, argv[i], strlen(argv[i]));
  printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
  char *mine[64];
  int n = 0;
  for (char **e = environ; *e && n < 64; e++)
    if (!strncmp(*e, "T_", 2)) mine[n++] = *e;
  qsort(mine, (size_t)n, sizeof mine[0], cmp);
  for (int i = 0; i < n; i++) printf("env: [%s]\n", mine[i]);
  const char *eq = getenv("T_EQ"), *none = getenv("T_NONE"), *empty = getenv("T_EMPTY");
  printf("getenv T_EQ: %s\n", eq ? eq : "(null)");
  printf("getenv T_EMPTY: %s\n", empty ? (*empty ? empty : "(empty)") : "(null)");
  printf("getenv T_NONE: %s\n", none ? none : "(null)");
  CHECK("setenv", setenv("T_SET", "new", 1));
  printf("getenv T_SET: %s\n", getenv("T_SET"));
  CHECK("unsetenv", unsetenv("T_EQ"));
  printf("getenv T_EQ after unsetenv: %s\n", getenv("T_EQ") ? getenv("T_EQ") : "(null)");
  CHECK("setenv bad name", setenv("A=B", "x", 1));
  return 0;
}
