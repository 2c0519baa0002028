/*
 * Stdio for a container without a terminal. Node hands the helper socket
 * pairs; a container needs pipes (`echo > /dev/stdout` cannot reopen a
 * socket). For each of fds 0-2 that is a socket, the helper makes a pipe for
 * the container and copies between the two; other fds (pipes, files,
 * /dev/null) pass straight through. When the reader on the Node side goes
 * away, output is read and dropped, so the container is not killed by SIGPIPE.
 */
#ifndef SKIFF_RELAY_H
#define SKIFF_RELAY_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

typedef struct {
  int from, to;
  int eof, discard, close_to_at_eof, active;
  size_t off, len;
  char buf[65536];
} relay_chan;

typedef struct {
  int child_fd[3];   /* what the child puts on fd i, or -1 to keep fd i */
  relay_chan ch[3];  /* ch[0]: stdin (host -> pipe), ch[1]/ch[2]: stdout/stderr (pipe -> host) */
  int any;
} stdio_relay;

int relay_prepare(stdio_relay *r, serr_t *e);
/* In the child: the pipe ends onto 0, 1, 2. */
int relay_child(stdio_relay *r, serr_t *e);
/* In the parent after fork/clone: close the child's ends. */
void relay_parent(stdio_relay *r);
/* Copies until pid has exited and its output has ended; fills pid's wait status. */
void relay_until_exit(stdio_relay *r, pid_t pid, int *status);

#endif
