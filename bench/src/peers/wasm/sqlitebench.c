/*
 * An SQLite workload over WASI: sqlitebench DB N
 * creates a table in the database file DB, inserts N rows in one transaction,
 * builds an index, runs aggregate and indexed queries, updates and deletes,
 * and prints a checksum line so every runtime is seen to compute the same.
 * SQLite is the amalgamation from the better-sqlite3 npm package.
 */
#include <stdio.h>
#include <stdlib.h>
#include "sqlite3.h"

static sqlite3 *db;

static void die(const char *what) {
  fprintf(stderr, "sqlitebench: %s: %s\n", what, sqlite3_errmsg(db));
  exit(1);
}

static void run(const char *sql) {
  char *err = 0;
  if (sqlite3_exec(db, sql, 0, 0, &err) != SQLITE_OK) {
    fprintf(stderr, "sqlitebench: %s: %s\n", sql, err);
    exit(1);
  }
}

static long long scalar(const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, 0) != SQLITE_OK) die(sql);
  if (sqlite3_step(st) != SQLITE_ROW) die(sql);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sqlitebench DB N\n");
    return 2;
  }
  int n = atoi(argv[2]);
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) die("open");
  run("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER, price REAL)");
  run("BEGIN");
  sqlite3_stmt *ins;
  if (sqlite3_prepare_v2(db, "INSERT INTO items(name, grp, price) VALUES (?, ?, ?)", -1, &ins, 0) != SQLITE_OK) die("prepare insert");
  char name[64];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "item-%d-%x", i, (unsigned)(i * 2654435761u));
    sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(ins, 2, i % 97);
    sqlite3_bind_double(ins, 3, (i % 1000) / 10.0);
    if (sqlite3_step(ins) != SQLITE_DONE) die("insert");
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  run("COMMIT");
  run("CREATE INDEX items_grp ON items(grp)");
  long long sum = 0;
  for (int g = 0; g < 97; g++) {
    char q[128];
    snprintf(q, sizeof q, "SELECT count(*) FROM items WHERE grp = %d AND price > 20", g);
    sum += scalar(q);
  }
  sum += scalar("SELECT count(*) FROM items WHERE name LIKE 'item-1%'");
  run("UPDATE items SET price = price * 1.1 WHERE grp < 10");
  run("DELETE FROM items WHERE grp = 13");
  sum += scalar("SELECT CAST(sum(price) AS INTEGER) FROM items");
  printf("rows=%lld check=%lld\n", scalar("SELECT count(*) FROM items"), sum);
  if (sqlite3_close(db) != SQLITE_OK) die("close");
  return 0;
}
