/*
 * Stdio for a container without a terminal. Node hands the helper socket
 * pairs; a container needs pipes (`echo > /dev/stdout` cannot reopen a
 * socket). For each of fds 0-2 that is a socket, the helper makes a pipe for
 * the container and io.c copies between the two; other fds (pipes, files,
 * /dev/null) pass straight through unless forced.
 */
#ifndef SKIFF_RELAY_H
#define SKIFF_RELAY_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

typedef struct {
  int from, to;
  int close_to_at_eof, active;
} relay_chan;

typedef struct {
  int child_fd[3];   /* what the child puts on fd i, or -1 to keep fd i */
  relay_chan ch[3];  /* ch[0]: stdin (host -> pipe), ch[1]/ch[2]: stdout/stderr (pipe -> host) */
  int any;
} stdio_relay;

/* force: a bit per fd that gets a pipe even when it is not a socket (a log, stdin kept open). */
int relay_prepare(stdio_relay *r, int force, serr_t *e);
/* In the child: the pipe ends onto 0, 1, 2. */
int relay_child(stdio_relay *r, serr_t *e);
/* In the parent after fork/clone: close the child's ends. */
void relay_parent(stdio_relay *r);

#endif
