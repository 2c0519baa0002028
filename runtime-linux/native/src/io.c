#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define OUT_BUF 65536
#define IN_BUF 16384
#define MAX_CONN 32

/* docker's log copier holds a line without its newline up to 16 KiB (then logs it as a partial line). */
#define LOG_PART_MAX 16384

typedef struct {
  int from, to;
  int active, discard;
  size_t off, len;
  const char *stream;
  char buf[OUT_BUF];
  size_t plen;              /* the held start of a line, for the log */
  char part[LOG_PART_MAX];
} out_chan;

enum { C_FREE, C_HEADER, C_STDIN };

/* An input source: fd 0 or a control connection. */
typedef struct {
  int fd, state;
  char head[64];
  size_t hlen;
  size_t off, len;
  char *buf;
} conn;

typedef struct {
  io_loop *l;
  out_chan out[2];
  int nout;
  conn conns[MAX_CONN];
  int sink;       /* the process's stdin: the pipe's write end or the terminal's master */
  int sink_open;
  int tty;        /* the master, or -1 */
  int exited;
} io_state;

static void set_nonblock(int fd, int on) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) { if (errno == EINTR) continue; return; }
    s += w;
    n -= (size_t)w;
  }
}

int io_open(io_loop *l, const io_options *o, serr_t *e) {
  l->o = *o;
  l->log_fd = l->listen_fd = -1;
  if (o->log_path) {
    l->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (l->log_fd < 0) return fail(e, "log", errno, "open the log file %s", o->log_path);
    struct stat st;
    l->log_size = fstat(l->log_fd, &st) == 0 ? (long long)st.st_size : 0; /* an earlier run's lines count */
  }
  if (o->control) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(e, "control", errno, "socket");
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    size_t n = strlen(o->control);
    if (n + 1 > sizeof addr.sun_path) { close(fd); return fail(e, "control", ENAMETOOLONG, "control socket name %s", o->control); }
    memcpy(addr.sun_path + 1, o->control, n);
    /* The whole structure, as Node (libuv) connects to abstract names. */
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
      int err = errno;
      close(fd);
      return fail(e, "control", err, "listen on the control socket @%s", o->control);
    }
    l->listen_fd = fd;
  }
  return 0;
}

void io_close_in_child(io_loop *l) {
  if (l->log_fd >= 0) close(l->log_fd);
  if (l->listen_fd >= 0) close(l->listen_fd);
}

/*
 * Moves the full log aside: FILE.(n-2) -> FILE.(n-1), ..., FILE -> FILE.1
 * (rename replaces the oldest), or removes FILE when only one file is kept;
 * then starts a new FILE. Readers holding the old file open read it to its
 * end: nothing is written to it after the rename. If a rename fails the log
 * stays where it is and grows (losing lines would be worse).
 */
static void log_rotate(io_loop *l) {
  const char *path = l->o.log_path;
  char from[4096], to[4096];
  if (l->o.log_max_files <= 1) {
    if (unlink(path) < 0 && errno != ENOENT) return;
  } else {
    for (int i = l->o.log_max_files - 1; i >= 1; i--) {
      if (i == 1) snprintf(from, sizeof from, "%s", path);
      else snprintf(from, sizeof from, "%s.%d", path, i - 1);
      snprintf(to, sizeof to, "%s.%d", path, i);
      if (rename(from, to) < 0 && errno != ENOENT && i == 1) return;
    }
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return; /* keep writing to the old file rather than drop output */
  close(l->log_fd);
  l->log_fd = fd;
  l->log_size = 0;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64(char *out, const unsigned char *p, size_t n) {
  size_t o = 0, i = 0;
  for (; i + 2 < n; i += 3) {
    out[o++] = B64[p[i] >> 2];
    out[o++] = B64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
    out[o++] = B64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
    out[o++] = B64[p[i + 2] & 63];
  }
  if (i < n) {
    out[o++] = B64[p[i] >> 2];
    if (i + 1 < n) {
      out[o++] = B64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
      out[o++] = B64[(p[i + 1] & 15) << 2];
    } else {
      out[o++] = B64[(p[i] & 3) << 4];
      out[o++] = '=';
    }
    out[o++] = '=';
  }
  return o;
}

/* The length of the valid UTF-8 sequence at p (of n bytes), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
  else return 0;
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; i++) if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return len;
}

/*
 * The bytes as a JSON string body, as docker's json-file driver writes "log":
 * UTF-8 as it is, control characters escaped, each byte that is not UTF-8
 * as \ufffd. Returns the length written; *lossy says whether a byte was replaced.
 */
static size_t json_text(char *out, const unsigned char *p, size_t n, int *lossy) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t esc = json_escape_byte(p[i], out + o);
    if (esc) { o += esc; i++; continue; }
    size_t len = utf8_len(p + i, n - i);
    if (len == 0) { memcpy(out + o, "\\ufffd", 6); o += 6; i++; *lossy = 1; continue; }
    memcpy(out + o, p + i, len);
    o += len;
    i += len;
  }
  return o;
}

/* Lines waiting to be appended to the log: written whole, in as few appends as fit. */
#define LOG_PENDING (256 * 1024)
/* One line's worst case: every byte escaped as \u00XX or \ufffd (6), plus its base64 (4/3). */
#define LOG_LINE_MAX (256 + 6 * LOG_PART_MAX + 4 * (LOG_PART_MAX / 3 + 1))
static char log_buf[LOG_PENDING + LOG_LINE_MAX];
static size_t log_len;

static void log_flush(io_loop *l) {
  if (log_len) write_all(l->log_fd, log_buf, log_len);
  log_len = 0;
}

/*
 * One line of output (or what there is of it) as a line of docker's json-file
 * log: {"log":"...","stream":"stdout","time":"RFC 3339, ns"}. When the output
 * is not UTF-8 the exact bytes follow as "raw" (base64), which skiff reads
 * back and docker's readers ignore. Lines are appended whole, so concurrent
 * readers never see half a line's start; the log rotates between lines.
 */
static void log_line(io_loop *l, const char *stream, const char *when, const unsigned char *p, size_t n) {
  if (l->o.log_max_size > 0 && l->log_size >= l->o.log_max_size) {
    log_flush(l);
    log_rotate(l);
  }
  char *line = log_buf + log_len;
  int lossy = 0;
  size_t o = 0;
  memcpy(line, "{\"log\":\"", 8);
  o = 8;
  o += json_text(line + o, p, n, &lossy);
  o += (size_t)snprintf(line + o, 128, "\",\"stream\":\"%s\",\"time\":\"%s\"", stream, when);
  if (lossy) {
    memcpy(line + o, ",\"raw\":\"", 8);
    o += 8;
    o += b64(line + o, p, n);
    line[o++] = '"';
  }
  memcpy(line + o, "}\n", 2);
  o += 2;
  log_len += o;
  l->log_size += (long long)o;
  if (log_len >= LOG_PENDING) log_flush(l);
}

static void now_rfc3339(char when[64]) {
  struct timespec t;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &t);
  gmtime_r(&t.tv_sec, &tm);
  size_t w = strftime(when, 64, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(when + w, 64 - w, ".%09ldZ", t.tv_nsec);
}

/* Appends bytes to the channel's held line; a full one is logged as it is (a partial line). */
static void hold(io_loop *l, out_chan *c, const char *when, const unsigned char *p, size_t n) {
  while (n > 0) {
    size_t take = LOG_PART_MAX - c->plen < n ? LOG_PART_MAX - c->plen : n;
    memcpy(c->part + c->plen, p, take);
    c->plen += take;
    p += take;
    n -= take;
    if (c->plen == LOG_PART_MAX) {
      log_line(l, c->stream, when, (const unsigned char *)c->part, c->plen);
      c->plen = 0;
    }
  }
}

/*
 * A chunk of output as docker logs it: one json-file line per line of
 * output, with the time its newline came. A line's start without its newline
 * is held until the newline, 16 KiB of it, or the end of the output
 * (log_rest), as docker's copier does, so a line written in pieces is one
 * entry; a longer line is logged in pieces of 16 KiB.
 */
static void log_chunk(io_loop *l, out_chan *c, const char *buf, size_t n) {
  if (l->log_fd < 0 || n == 0) return;
  char when[64];
  now_rfc3339(when);
  const unsigned char *p = (const unsigned char *)buf;
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '\n') continue;
    /* Through the held line, so a line longer than 16 KiB is logged in 16 KiB pieces as docker's. */
    hold(l, c, when, p + start, i + 1 - start);
    if (c->plen > 0) log_line(l, c->stream, when, (const unsigned char *)c->part, c->plen);
    c->plen = 0;
    start = i + 1;
  }
  if (start < n) hold(l, c, when, p + start, n - start);
  log_flush(l);
}

/* The end of a channel's output: its held line, without a newline, is logged. */
static void log_rest(io_loop *l, out_chan *c) {
  if (l->log_fd < 0 || c->plen == 0) return;
  char when[64];
  now_rfc3339(when);
  log_line(l, c->stream, when, (const unsigned char *)c->part, c->plen);
  c->plen = 0;
  log_flush(l);
}

/* Moves output without blocking: process -> log and Node. */
static void out_pump(io_state *s, out_chan *c) {
  for (int rounds = 0; rounds < 64 && c->active; rounds++) {
    if (c->len > c->off) {
      ssize_t w = write(c->to, c->buf + c->off, c->len - c->off);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        c->discard = 1; /* the reader is gone: the log still gets everything */
        c->len = c->off = 0;
        continue;
      }
      c->off += (size_t)w;
      if (c->off < c->len) continue;
      c->off = c->len = 0;
    }
    ssize_t n = read(c->from, c->buf, sizeof c->buf);
    if (n < 0 && (errno == EINTR)) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* EOF, or EIO once a terminal's last slave is closed */
      c->active = 0;
      log_rest(s->l, c);
      if (s->tty < 0) close(c->from);
      return;
    }
    log_chunk(s->l, c, c->buf, (size_t)n);
    if (!c->discard) { c->len = (size_t)n; c->off = 0; }
  }
}

static void conn_close(conn *c) {
  if (c->state == C_FREE) return;
  close(c->fd);
  free(c->buf);
  memset(c, 0, sizeof *c);
  c->fd = -1;
}

/* The process's stdin ends: EOF on a pipe, the EOF character on a terminal (as typing ^D). */
static void end_stdin(io_state *s) {
  if (!s->sink_open) return;
  s->sink_open = 0;
  if (s->tty >= 0) {
    struct termios t;
    char eof = tcgetattr(s->tty, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
    if (write(s->tty, &eof, 1) < 0) {}
  } else {
    close(s->sink);
  }
  for (int i = 0; i < MAX_CONN; i++) if (s->conns[i].state == C_STDIN) conn_close(&s->conns[i]);
}

/*
 * An input source ended: it detaches, and closes the process's stdin unless
 * stdin is kept open. StdinOnce closes it only without a terminal, as in
 * dockerd: an attacher of a terminal that leaves (detach keys) leaves the
 * shell running for the next one.
 */
static void source_ended(io_state *s, conn *c) {
  conn_close(c);
  if (!s->l->o.stdin_open || (s->l->o.stdin_once && s->tty < 0)) end_stdin(s);
}

static void in_pump(io_state *s, conn *c) {
  for (int rounds = 0; rounds < 64 && c->state == C_STDIN; rounds++) {
    if (c->len > c->off) {
      ssize_t w = write(s->sink, c->buf + c->off, c->len - c->off);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return;
        end_stdin(s); /* the process closed its stdin */
        return;
      }
      c->off += (size_t)w;
      if (c->off < c->len) continue;
      c->off = c->len = 0;
    }
    ssize_t n = read(c->fd, c->buf, IN_BUF);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { source_ended(s, c); return; }
    c->len = (size_t)n;
    c->off = 0;
  }
}

static void reply(conn *c, const char *msg) {
  set_nonblock(c->fd, 0);
  write_all(c->fd, msg, strlen(msg));
  conn_close(c);
}

/* Reads a control connection's request line and acts on it. */
static void header_pump(io_state *s, conn *c) {
  ssize_t n = read(c->fd, c->head + c->hlen, sizeof c->head - 1 - c->hlen);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { conn_close(c); return; }
  c->hlen += (size_t)n;
  c->head[c->hlen] = 0;
  char *nl = memchr(c->head, '\n', c->hlen);
  if (!nl) {
    if (c->hlen >= sizeof c->head - 1) reply(c, "error request line too long\n");
    return;
  }
  *nl = 0;
  size_t rest = c->hlen - (size_t)(nl + 1 - c->head);
  unsigned rows, cols;
  if (!strcmp(c->head, "stdin")) {
    if (!s->sink_open || s->exited || !s->l->o.stdin_open) { reply(c, "error stdin is closed\n"); return; }
    c->buf = malloc(IN_BUF);
    if (!c->buf) { conn_close(c); return; }
    /* The attacher sends its input after this answer, so a refusal never meets input it has already sent. */
    if (write(c->fd, "ok\n", 3) < 0) {}
    memcpy(c->buf, nl + 1, rest);
    c->len = rest;
    c->off = 0;
    c->state = C_STDIN;
    in_pump(s, c);
  } else if (sscanf(c->head, "resize %u %u", &rows, &cols) == 2) {
    if (s->tty < 0) { reply(c, "error the process has no terminal\n"); return; }
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    if (ioctl(s->tty, TIOCSWINSZ, &ws) < 0) { reply(c, "error TIOCSWINSZ failed\n"); return; }
    reply(c, "ok\n");
  } else {
    reply(c, "error unknown request\n");
  }
}

static void accept_conn(io_state *s) {
  for (;;) {
    int fd = accept4(s->l->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;
    /* Abstract sockets have no file mode: only our own user may attach. */
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != geteuid()) { close(fd); continue; }
    conn *c = NULL;
    for (int i = 0; i < MAX_CONN && !c; i++) if (s->conns[i].state == C_FREE) c = &s->conns[i];
    if (!c) { close(fd); continue; }
    c->fd = fd;
    c->state = C_HEADER;
    c->hlen = 0;
  }
}

static int is_stream(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) || S_ISFIFO(st.st_mode));
}

/* After the exit, a terminal's remaining output: whatever is buffered now (a daemon holding the slave must not keep us). */
static void drain_tty(io_state *s) {
  out_chan *c = &s->out[0];
  if (!c->active) return;
  set_nonblock(c->to, 0);
  if (c->len > c->off && !c->discard) write_all(c->to, c->buf + c->off, c->len - c->off);
  for (;;) {
    ssize_t n = read(c->from, c->buf, sizeof c->buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log_chunk(s->l, c, c->buf, (size_t)n);
    if (!c->discard) write_all(c->to, c->buf, (size_t)n);
  }
  c->active = 0;
}

void io_run(io_loop *l, stdio_relay *pipes, tty_relay *tty, pid_t pid, int *status) {
  static io_state s;
  memset(&s, 0, sizeof s);
  s.l = l;
  s.tty = -1;
  s.sink = -1;
  for (int i = 0; i < MAX_CONN; i++) s.conns[i].fd = -1;
  int src0 = -1;
  if (tty) {
    s.tty = tty->master;
    set_nonblock(tty->master, 1);
    set_nonblock(tty->out, 1);
    s.out[0] = (out_chan){ .from = tty->master, .to = tty->out, .active = 1, .stream = "stdout" };
    s.nout = 1;
    s.sink = tty->master;
    s.sink_open = 1;
    if (!l->o.stdin_open || is_stream(tty->in)) src0 = tty->in;
  } else {
    for (int i = 1; i < 3; i++) {
      relay_chan *rc = &pipes->ch[i];
      if (!rc->active) continue;
      out_chan *c = &s.out[s.nout++];
      c->from = rc->from;
      c->to = rc->to;
      c->active = 1;
      c->stream = i == 1 ? "stdout" : "stderr";
    }
    if (pipes->ch[0].active) {
      s.sink = pipes->ch[0].to;
      s.sink_open = 1;
      if (!l->o.stdin_open || is_stream(0)) src0 = 0;
      else close(0); /* /dev/null: nothing will come from it */
    }
  }
  if (src0 >= 0) {
    set_nonblock(src0, 1);
    s.conns[0] = (conn){ .fd = src0, .state = C_STDIN, .buf = malloc(IN_BUF) };
    if (!s.conns[0].buf) s.conns[0].state = C_FREE;
  } else if (s.sink_open && !l->o.stdin_open && !tty) {
    end_stdin(&s);
  }

  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  for (;;) {
    struct pollfd fds[2 + MAX_CONN + 2];
    void *who[2 + MAX_CONN + 2];
    int kind[2 + MAX_CONN + 2];
    int n = 0, pending = 0;
    for (int i = 0; i < s.nout; i++) {
      out_chan *c = &s.out[i];
      if (!c->active) continue;
      pending = 1;
      int busy = c->len > c->off;
      fds[n] = (struct pollfd){ .fd = busy ? c->to : c->from, .events = busy ? POLLOUT : POLLIN };
      who[n] = c;
      kind[n++] = 0;
    }
    if (s.exited && (!pending || s.tty >= 0)) break;
    for (int i = 0; i < MAX_CONN && !s.exited; i++) {
      conn *c = &s.conns[i];
      if (c->state == C_FREE) continue;
      int busy = c->state == C_STDIN && c->len > c->off;
      fds[n] = (struct pollfd){ .fd = busy ? s.sink : c->fd, .events = busy ? POLLOUT : POLLIN };
      who[n] = c;
      kind[n++] = 1;
    }
    if (!s.exited && l->listen_fd >= 0) { fds[n] = (struct pollfd){ .fd = l->listen_fd, .events = POLLIN }; who[n] = NULL; kind[n++] = 2; }
    if (!s.exited && pfd >= 0) { fds[n] = (struct pollfd){ .fd = pfd, .events = POLLIN }; who[n] = NULL; kind[n++] = 3; }
    int rc = poll(fds, (nfds_t)n, pfd >= 0 || s.exited ? -1 : 50);
    if (rc < 0 && errno != EINTR) break;
    int check_exit = !s.exited && pfd < 0;
    for (int i = 0; i < n && rc > 0; i++) {
      if (!fds[i].revents) continue;
      if (kind[i] == 0) out_pump(&s, who[i]);
      else if (kind[i] == 1) {
        conn *c = who[i];
        if (c->state == C_HEADER) header_pump(&s, c);
        else if (c->state == C_STDIN) in_pump(&s, c);
      } else if (kind[i] == 2) accept_conn(&s);
      else check_exit = 1;
    }
    if (check_exit) {
      pid_t w = waitpid(pid, status, pfd < 0 ? WNOHANG : 0);
      if (w == pid) {
        /* Input matters only while the process runs; output until its writers are gone. */
        s.exited = 1;
        for (int i = 0; i < MAX_CONN; i++) conn_close(&s.conns[i]);
        if (s.tty < 0 && s.sink_open) { s.sink_open = 0; close(s.sink); }
        if (l->listen_fd >= 0) { close(l->listen_fd); l->listen_fd = -1; }
      }
    }
  }
  if (s.tty >= 0) drain_tty(&s);
  for (int i = 0; i < s.nout; i++) log_rest(l, &s.out[i]);
  if (!s.exited) while (waitpid(pid, status, 0) < 0 && errno == EINTR) {}
  for (int i = 0; i < MAX_CONN; i++) conn_close(&s.conns[i]);
  if (l->listen_fd >= 0) { close(l->listen_fd); l->listen_fd = -1; }
  if (pfd >= 0) close(pfd);
}
