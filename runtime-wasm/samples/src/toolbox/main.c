// Entry point: the applet is named by argv[0]'s base name (a link or copy
// named `ls`), or by the first argument (`toolbox ls -l`).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "toolbox.h"

static const struct {
  const char *name;
  tb_applet_fn fn;
} applets[] = {
    {"[", applet_test}, {"cat", applet_cat}, {"cp", applet_cp}, {"echo", applet_echo}, {"env", applet_env},
    {"exit", applet_exit}, {"false", applet_false}, {"head", applet_head}, {"ln", applet_ln},
    {"ls", applet_ls}, {"mkdir", applet_mkdir}, {"mv", applet_mv}, {"pwd", applet_pwd}, {"rm", applet_rm},
    {"rmdir", applet_rmdir}, {"seq", applet_seq}, {"sh", applet_sh}, {"sleep", applet_sleep},
    {"stat", applet_stat}, {"tee", applet_tee}, {"test", applet_test}, {"touch", applet_touch},
    {"true", applet_true}, {"wc", applet_wc},
};

tb_applet_fn tb_find_applet(const char *name) {
  for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++)
    if (!strcmp(applets[i].name, name)) return applets[i].fn;
  return NULL;
}

// "ls.wasm" and "/bin/ls" both name ls.
static char *applet_name(const char *arg0) {
  char *name = tb_strdup(tb_basename(arg0));
  size_t n = strlen(name);
  if (n > 5 && !strcmp(name + n - 5, ".wasm")) name[n - 5] = 0;
  return name;
}

static int list_applets(tb_stream *s) {
  for (size_t i = 0; i < sizeof applets / sizeof applets[0]; i++) tb_printf(s, "%s\n", applets[i].name);
  return 0;
}

int main(int argc, char **argv) {
  // WASI has no working directory of its own: skiff passes it as PWD.
  const char *pwd = getenv("PWD");
  if (pwd && *pwd && chdir(pwd) != 0) fprintf(stderr, "toolbox: cannot enter PWD %s\n", pwd);

  tb_env env;
  tb_env_from_environ(&env);
  tb_ctx c = {tb_stream_fd(0, 0), tb_stream_fd(1, 0), tb_stream_fd(2, 1), &env};

  char *name = applet_name(argc > 0 ? argv[0] : "toolbox");
  int status;
  if (!strcmp(name, "toolbox")) {
    argc--, argv++;
    if (argc > 0 && (!strcmp(argv[0], "--list") || !strcmp(argv[0], "--help"))) {
      status = list_applets(c.out);
      goto done;
    }
    if (argc == 0) {
      tb_puts(c.err, "usage: toolbox APPLET [ARGS...] (toolbox --list names the applets)\n");
      status = 2;
      goto done;
    }
    free(name);
    name = applet_name(argv[0]);
  }
  tb_applet_fn fn = tb_find_applet(name);
  if (!fn) {
    tb_printf(c.err, "toolbox: %s: applet not found\n", name);
    status = 127;
  } else {
    status = fn(&c, argc, argv);
  }
done:
  tb_flush(c.out);
  tb_flush(c.err);
  return status;
}
