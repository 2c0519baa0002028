/*
 * The shim's stdio loop, for a terminal or pipes alike. It copies the
 * process's output to the shim's fds 1 and 2 (Node) and, with a log file,
 * appends it there too as JSON lines - the format the Engine's log store reads,
 * {"stream":"stdout","time":MS,"log":"BASE64"} - so output is kept when no
 * Node process is reading. With a maximum size the log is rotated as docker's
 * json-file driver does it: before a line is written, a file that has reached
 * the size becomes FILE.1 (FILE.1 becomes FILE.2, ...; the oldest beyond
 * max-files is dropped) and a new FILE is started, so a line is never split.
 * Input comes from fd 0 and from attachers on the
 * control socket. The control socket (abstract unix, owner-only) takes one
 * request per connection, a line:
 *
 *   stdin\n<bytes...>      answers "ok\n" (or "error ...\n" and closes), then copies
 *                         the bytes to the process's stdin until EOF
 *   resize ROWS COLS\n     set the terminal's window size; answers "ok\n"
 *
 * With stdin kept open (docker's OpenStdin) an attacher's EOF only detaches
 * it; with stdin-once the first attacher's EOF closes the process's stdin
 * (without a terminal only, as dockerd does).
 */
#ifndef SKIFF_IO_H
#define SKIFF_IO_H

#include <sys/types.h>
#include "error.h"
#include "relay.h"
#include "tty.h"

typedef struct {
  const char *log_path;  /* NULL: no log */
  long long log_max_size; /* rotate when the log reaches this many bytes; 0: never */
  int log_max_files;      /* files kept with rotation, the current one included (>= 1) */
  const char *control;   /* abstract socket name, NULL: none */
  int stdin_open;
  int stdin_once;
} io_options;

typedef struct {
  io_options o;
  int log_fd;
  long long log_size;
  int listen_fd;
} io_loop;

/* Before the process starts: opens the log and listens on the control socket (in the host's namespaces). */
int io_open(io_loop *l, const io_options *o, serr_t *e);
/* Closes what io_open opened, for a child that must not keep them. */
void io_close_in_child(io_loop *l);
/* Copies until pid has exited and its output has ended; fills pid's wait status. Exactly one of pipes, tty. */
void io_run(io_loop *l, stdio_relay *pipes, tty_relay *tty, pid_t pid, int *status);

#endif
