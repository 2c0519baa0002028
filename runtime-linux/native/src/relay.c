#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int relay_prepare(stdio_relay *r, int force, serr_t *e) {
  memset(r, 0, sizeof *r);
  for (int fd = 0; fd < 3; fd++) {
    r->child_fd[fd] = -1;
    struct stat st;
    if (!(force & (1 << fd)) && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))) continue;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) return fail(e, "stdio", errno, "pipe for fd %d", fd);
    relay_chan *c = &r->ch[fd];
    c->active = 1;
    if (fd == 0) { r->child_fd[0] = p[0]; c->from = 0; c->to = p[1]; c->close_to_at_eof = 1; }
    else { r->child_fd[fd] = p[1]; c->from = p[0]; c->to = fd; }
    set_nonblock(c->from);
    set_nonblock(c->to);
    r->any = 1;
  }
  return 0;
}

int relay_child(stdio_relay *r, serr_t *e) {
  /* The helper's ends stay with the helper: an init that holds the stdin pipe's
     write end would keep the process from ever seeing EOF. */
  if (r->ch[0].active) close(r->ch[0].to);
  for (int fd = 1; fd < 3; fd++) if (r->ch[fd].active) close(r->ch[fd].from);
  for (int fd = 0; fd < 3; fd++) {
    if (r->child_fd[fd] < 0) continue;
    if (dup2(r->child_fd[fd], fd) < 0) return fail(e, "stdio", errno, "dup2 onto fd %d", fd);
    /* dup2 clears close-on-exec on the copy; the pipe's other ends are close-on-exec. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  return 0;
}

void relay_parent(stdio_relay *r) {
  if (!r->any) return; /* not prepared (a terminal): its zeroed child_fd would name fd 0 */
  for (int fd = 0; fd < 3; fd++) if (r->child_fd[fd] >= 0) { close(r->child_fd[fd]); r->child_fd[fd] = -1; }
}
