/* `-t`: a pseudo-terminal whose slave is the container's stdio and /dev/console; the shim relays the master. */
#ifndef SKIFF_TTY_H
#define SKIFF_TTY_H

#include <sys/types.h>
#include "error.h"

typedef struct {
  int master;
  char slave_name[128];
  int in, out; /* the shim's stdin and stdout */
} tty_relay;

int tty_open(tty_relay *r, int *slave, serr_t *e);
/* In the container after setsid: the slave becomes the controlling terminal and fds 0, 1, 2. */
int tty_make_stdio(int slave, serr_t *e);
int tty_set_size(int fd, const char *spec);

#endif
