#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int relay_prepare(stdio_relay *r, serr_t *e) {
  memset(r, 0, sizeof *r);
  for (int fd = 0; fd < 3; fd++) {
    r->child_fd[fd] = -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) continue;
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
  for (int fd = 0; fd < 3; fd++) if (r->child_fd[fd] >= 0) { close(r->child_fd[fd]); r->child_fd[fd] = -1; }
}

static void chan_end(relay_chan *c) {
  c->eof = 1;
  c->len = 0;
  close(c->from);
  if (c->close_to_at_eof) close(c->to);
}

/* Moves what it can without blocking. */
static void chan_pump(relay_chan *c) {
  for (int rounds = 0; rounds < 64 && !c->eof; rounds++) {
    if (c->len > c->off) {
      ssize_t w = write(c->to, c->buf + c->off, c->len - c->off);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        c->discard = 1; /* the reader is gone: drop output from now on */
        c->len = c->off = 0;
        if (c->close_to_at_eof) { chan_end(c); return; } /* stdin: the container stopped reading */
        continue;
      }
      c->off += (size_t)w;
      if (c->off < c->len) continue;
      c->off = c->len = 0;
    }
    ssize_t n = read(c->from, c->buf, sizeof c->buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      chan_end(c);
      return;
    }
    if (n == 0) { chan_end(c); return; }
    if (!c->discard) c->len = (size_t)n;
  }
}

void relay_until_exit(stdio_relay *r, pid_t pid, int *status) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int exited = 0;
  for (;;) {
    struct pollfd fds[4];
    int idx[3] = {-1, -1, -1}, n = 0, pending = 0;
    for (int i = 0; i < 3; i++) {
      relay_chan *c = &r->ch[i];
      if (!c->active || c->eof) continue;
      /* Input matters only while the process runs; output until its writers are gone. */
      if (i == 0 && exited) { chan_end(c); continue; }
      if (i > 0) pending = 1;
      idx[i] = n;
      fds[n].fd = c->len > c->off ? c->to : c->from;
      fds[n].events = c->len > c->off ? POLLOUT : POLLIN;
      fds[n].revents = 0;
      n++;
    }
    if (exited && !pending) break;
    int pidx = -1;
    if (!exited && pfd >= 0) { pidx = n; fds[n].fd = pfd; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    int rc = poll(fds, (nfds_t)n, pfd >= 0 || exited ? -1 : 50);
    if (rc < 0 && errno != EINTR) break;
    for (int i = 0; i < 3; i++) if (idx[i] >= 0 && fds[idx[i]].revents) chan_pump(&r->ch[i]);
    if (!exited && (pfd < 0 || (pidx >= 0 && fds[pidx].revents))) {
      pid_t w = waitpid(pid, status, pfd < 0 ? WNOHANG : 0);
      if (w == pid) exited = 1;
    }
  }
  if (!exited) while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
  if (pfd >= 0) close(pfd);
}
