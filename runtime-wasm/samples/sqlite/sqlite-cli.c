// sqlite: a small SQLite shell for WASI. `sqlite DB [SQL]` opens the
// database file DB, runs the SQL given (or read from stdin) and prints each
// row as its columns joined by '|' (NULL prints empty), as the sqlite3 shell
// does. Stops at the first error: "Error: ..." on stderr, status 1.
//
// WASI has no file locking: the database is opened with SQLite's
// "unix-none" VFS (no locks), so only one program may use a file at a time.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

#ifdef __wasi__
#define VFS "unix-none"
#else
#define VFS NULL
#endif

static char *read_all(FILE *f) {
  size_t n = 0, cap = 4096;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n < 2) buf = realloc(buf, cap *= 2);
  }
  if (buf) buf[n] = 0;
  return buf;
}

static int run(sqlite3 *db, const char *sql) {
  const char *tail = sql;
  while (tail && *tail) {
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db, tail, -1, &stmt, &tail) != SQLITE_OK) {
      fprintf(stderr, "Error: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    if (!stmt) continue;  // only whitespace or a comment
    int rc, cols = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      for (int i = 0; i < cols; i++) {
        const unsigned char *v = sqlite3_column_text(stmt, i);
        printf("%s%s", i ? "|" : "", v ? (const char *)v : "");
      }
      putchar('\n');
    }
    if (rc != SQLITE_DONE) {
      fprintf(stderr, "Error: %s\n", sqlite3_errmsg(db));
      sqlite3_finalize(stmt);
      return 1;
    }
    sqlite3_finalize(stmt);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: sqlite DATABASE [SQL]  (SQL from stdin when not given)\n");
    return 2;
  }
  sqlite3 *db;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, VFS) != SQLITE_OK) {
    fprintf(stderr, "Error: cannot open %s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
  }
  char *stdin_sql = argc == 3 ? NULL : read_all(stdin);
  int status = run(db, argc == 3 ? argv[2] : stdin_sql ? stdin_sql : "");
  free(stdin_sql);
  if (sqlite3_close(db) != SQLITE_OK) {
    fprintf(stderr, "Error: close: %s\n", sqlite3_errmsg(db));
    status = 1;
  }
  return status;
}
