/*
 * `-t`: a pseudo-terminal of the container's own devpts whose slave is the
 * process's stdio (and /dev/console for `run`); the shim relays the master.
 * For `run` the container's first process opens it after pivot_root and sends
 * the master to the shim over a socket (as runc's console socket does).
 */
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
/* In the container after pivot_root: opens a terminal, binds its slave on /dev/console (with a mount namespace of its own), sends the master on sock. */
int tty_open_in_container(int sock, int bind_console, int *slave, serr_t *e);
/* In the shim: receives the master the container sent. */
int tty_receive_master(int sock, tty_relay *r, serr_t *e);

#endif
