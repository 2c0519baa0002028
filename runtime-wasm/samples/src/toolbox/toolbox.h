// toolbox: one multi-call WASI binary (like busybox) with small coreutils
// and a shell that runs command lines of its own applets in-process
// (WASI preview1 has no fork and no exec).
#ifndef TOOLBOX_H
#define TOOLBOX_H

#include <stddef.h>
#include <sys/types.h>

// A byte stream an applet reads or writes: a file descriptor with a buffer,
// or memory (what one command of a pipeline leaves for the next).
// Applets never touch fds 0-2 directly, so the shell can redirect them
// without dup (WASI has none).
typedef struct tb_stream {
  int fd;          // -1 for a memory stream
  int unbuffered;  // write through at once (stderr)
  char *buf;       // output: bytes not yet written (fd) or the contents (memory); input: read-ahead
  size_t len, cap, pos;
  int input;       // has been read from: buf holds read-ahead, never flushed
} tb_stream;

tb_stream *tb_stream_fd(int fd, int unbuffered);
tb_stream *tb_stream_mem(void);
void tb_stream_free(tb_stream *s);  // flushes; never closes the fd
int tb_write(tb_stream *s, const void *p, size_t n);
int tb_puts(tb_stream *s, const char *str);
int tb_printf(tb_stream *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tb_flush(tb_stream *s);
ssize_t tb_read(tb_stream *s, void *p, size_t n);
// Reads one line with its '\n' (the last may lack one) into *line; 0 at end.
ssize_t tb_getline(tb_stream *s, char **line, size_t *cap);

// Variables: a shell's, or the environment of a standalone applet.
typedef struct tb_var {
  char *name, *value;
  int exported;
} tb_var;
typedef struct tb_env {
  tb_var *v;
  size_t n, cap;
} tb_env;

void tb_env_from_environ(tb_env *e);
void tb_env_copy(tb_env *dst, const tb_env *src);
void tb_env_free(tb_env *e);
const char *tb_getenv(const tb_env *e, const char *name);
// export: 1 or 0 sets the flag, -1 keeps it (new variables are not exported).
void tb_setenv(tb_env *e, const char *name, const char *value, int export);
void tb_unsetenv(tb_env *e, const char *name);
int tb_valid_name(const char *s, size_t n);

// What an applet runs with.
typedef struct tb_ctx {
  tb_stream *in, *out, *err;
  tb_env *env;
} tb_ctx;

typedef int (*tb_applet_fn)(tb_ctx *c, int argc, char **argv);
tb_applet_fn tb_find_applet(const char *name);

// Options: leading "-abc" words whose letters are all in `known`; "--" ends
// them, "-" alone is an operand. Returns the index of the first operand, or
// -1 after printing "NAME: invalid option".
typedef struct tb_opts {
  char on[128];
} tb_opts;
int tb_getopts(tb_ctx *c, int argc, char **argv, const char *known, tb_opts *o);

// Prints "applet: what: strerror(err)" and returns 1.
int tb_fail(tb_ctx *c, const char *applet, const char *what, int err);
void *tb_alloc(size_t n);
void *tb_realloc(void *p, size_t n);
char *tb_strdup(const char *s);
char *tb_strndup(const char *s, size_t n);
char *tb_path_join(const char *dir, const char *name);
const char *tb_basename(const char *path);
// Removes a tree (rm -r) / copies one (cp -r); 0 or errno, printed.
int tb_remove_tree(tb_ctx *c, const char *applet, const char *path, int force);
int tb_copy(tb_ctx *c, const char *applet, const char *from, const char *to, int recursive);

// Applets.
int applet_cat(tb_ctx *, int, char **);
int applet_cp(tb_ctx *, int, char **);
int applet_echo(tb_ctx *, int, char **);
int applet_env(tb_ctx *, int, char **);
int applet_exit(tb_ctx *, int, char **);
int applet_false(tb_ctx *, int, char **);
int applet_head(tb_ctx *, int, char **);
int applet_ln(tb_ctx *, int, char **);
int applet_ls(tb_ctx *, int, char **);
int applet_mkdir(tb_ctx *, int, char **);
int applet_mv(tb_ctx *, int, char **);
int applet_pwd(tb_ctx *, int, char **);
int applet_rm(tb_ctx *, int, char **);
int applet_rmdir(tb_ctx *, int, char **);
int applet_seq(tb_ctx *, int, char **);
int applet_sh(tb_ctx *, int, char **);
int applet_sleep(tb_ctx *, int, char **);
int applet_stat(tb_ctx *, int, char **);
int applet_tee(tb_ctx *, int, char **);
int applet_test(tb_ctx *, int, char **);
int applet_touch(tb_ctx *, int, char **);
int applet_true(tb_ctx *, int, char **);
int applet_wc(tb_ctx *, int, char **);

#endif
