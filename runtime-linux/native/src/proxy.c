/*
 * `skiff-runtime proxy`: publishes a container's TCP and UDP ports on the
 * host, as docker-proxy does when there is no iptables NAT. Host sockets are
 * made in the host's network namespace first; then the proxy joins the
 * container's namespace, so every socket it connects afterwards lives there
 * and reaches the container's loopback. It ends when the container's process
 * ends (a pidfd tells), closing every connection. One thread, one poll loop.
 *
 *   skiff-runtime proxy --pid PID --map HOSTIP:HOSTPORT:CONTAINERPORT[/udp] ...
 *                       [--udp-idle SECONDS] [--udp-flows N]
 *
 * UDP flows (one per client address, see proxy.h) close after --udp-idle
 * seconds without traffic (90, docker-proxy's conntrack timeout) and a port
 * keeps at most --udp-flows of them (1024).
 *
 * Prints one line per map, `HOSTIP:PORT` with the port actually bound (the
 * kernel picks one for HOSTPORT 0), then `ready`, and closes stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "proxy.h"

#define BUF_SIZE PROXY_BUF_SIZE
#define UDP_IDLE_SECONDS 90
#define UDP_MAX_FLOWS 1024

/* One direction of a proxied connection: bytes read from `from` wait in buf until written to `to`. */
typedef struct {
  int from, to;
  char *buf;
  size_t len, off;
  int eof;       /* `from` said EOF (or failed): shut `to` for writing once buf drains */
  int shut;      /* `to` has been shut for writing */
} pipe_dir;

typedef struct conn {
  pipe_dir d[2];  /* 0: client -> container, 1: container -> client */
  int connecting; /* the container side's connect() is in progress */
  struct conn *next;
} conn;

static int fail_line(const char *what) {
  fprintf(stderr, "{\"error\":\"skiff-runtime proxy: %s: %s\",\"op\":\"proxy\",\"errno\":%d}\n", what, strerror(errno), errno);
  return 1;
}

/* HOSTIP:HOSTPORT:CONTAINERPORT[/tcp|/udp], HOSTIP may be an IPv6 address in brackets or empty (all addresses). */
static int listen_on(const char *spec, port_map *m) {
  char ip[64] = "";
  const char *rest = spec;
  if (spec[0] == '[') {
    const char *close = strchr(spec, ']');
    if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof ip) { errno = EINVAL; return -1; }
    memcpy(ip, spec + 1, (size_t)(close - spec - 1));
    rest = close + 2;
  } else {
    const char *colon = strchr(spec, ':');
    if (!colon || (size_t)(colon - spec) >= sizeof ip) { errno = EINVAL; return -1; }
    memcpy(ip, spec, (size_t)(colon - spec));
    rest = colon + 1;
  }
  char *end;
  long host_port = strtol(rest, &end, 10);
  if (*end != ':' || host_port < 0 || host_port > 65535) { errno = EINVAL; return -1; }
  long container_port = strtol(end + 1, &end, 10);
  int udp = 0;
  if (!strcmp(end, "/udp")) udp = 1;
  else if (*end && strcmp(end, "/tcp")) { errno = EINVAL; return -1; }
  if (container_port < 1 || container_port > 65535) { errno = EINVAL; return -1; }

  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family;
  if (ip[0] == 0 || strcmp(ip, "0.0.0.0") == 0) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_ANY);
    a->sin_port = htons((uint16_t)host_port);
    len = sizeof *a;
  } else if (strchr(ip, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = family = AF_INET6;
    if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1) { errno = EINVAL; return -1; }
    a->sin6_port = htons((uint16_t)host_port);
    len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = family = AF_INET;
    if (inet_pton(AF_INET, ip, &a->sin_addr) != 1) { errno = EINVAL; return -1; }
    a->sin_port = htons((uint16_t)host_port);
    len = sizeof *a;
  }
  int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  /* Not for UDP: there SO_REUSEADDR would let a second proxy bind the same port and share its datagrams. */
  if (!udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (udp ? udp_prepare_host_socket(fd, family) : listen(fd, 128)) < 0) { int err = errno; close(fd); errno = err; return -1; }
  len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) { int err = errno; close(fd); errno = err; return -1; }
  char shown[INET6_ADDRSTRLEN] = "";
  int port;
  if (family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, shown, sizeof shown);
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    printf("[%s]:%d\n", shown, port);
  } else {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof shown);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    printf("%s:%d\n", shown, port);
  }
  m->fd = fd;
  m->family = family;
  m->udp = udp;
  m->container_port = (int)container_port;
  m->nflows = 0;
  return 0;
}

static void conn_free(conn *c) {
  close(c->d[0].from);
  close(c->d[0].to);
  free(c->d[0].buf);
  free(c->d[1].buf);
  free(c);
}

socklen_t container_address(const port_map *m, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (m->family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons((uint16_t)m->container_port);
    return sizeof *a;
  }
  struct sockaddr_in *a = (struct sockaddr_in *)ss;
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = htons((uint16_t)m->container_port);
  return sizeof *a;
}

/* Connects to the container's loopback (we are in its network namespace now). */
static conn *conn_open(int client, const port_map *m) {
  int fd = socket(m->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { close(client); return NULL; }
  struct sockaddr_storage ss;
  socklen_t len = container_address(m, &ss);
  int r = connect(fd, (struct sockaddr *)&ss, len);
  if (r < 0 && errno != EINPROGRESS) { close(fd); close(client); return NULL; } /* nothing listens: the client sees a reset */
  conn *c = calloc(1, sizeof *c);
  char *b0 = malloc(BUF_SIZE), *b1 = malloc(BUF_SIZE);
  if (!c || !b0 || !b1) { free(c); free(b0); free(b1); close(fd); close(client); return NULL; }
  c->d[0] = (pipe_dir){ .from = client, .to = fd, .buf = b0 };
  c->d[1] = (pipe_dir){ .from = fd, .to = client, .buf = b1 };
  c->connecting = r < 0;
  return c;
}

/* Moves what it can in one direction; returns -1 when the connection is broken. */
static int pump(pipe_dir *p) {
  if (p->len == p->off && !p->eof) {
    ssize_t n = read(p->from, p->buf, BUF_SIZE);
    if (n > 0) { p->len = (size_t)n; p->off = 0; }
    else if (n == 0) p->eof = 1;
    else if (errno != EAGAIN && errno != EINTR) return -1;
  }
  while (p->off < p->len) {
    ssize_t n = write(p->to, p->buf + p->off, p->len - p->off);
    if (n > 0) p->off += (size_t)n;
    else if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    else return -1;
  }
  if (p->off == p->len) { p->off = p->len = 0; }
  if (p->eof && p->len == 0 && !p->shut) { shutdown(p->to, SHUT_WR); p->shut = 1; }
  return 0;
}

int cmd_proxy(int argc, char **argv) {
  long pid = 0, udp_idle = UDP_IDLE_SECONDS, udp_flows = UDP_MAX_FLOWS;
  port_map *maps = NULL; /* grows while parsing, fixed before any flow points into it */
  int nmaps = 0;
  signal(SIGPIPE, SIG_IGN);
  /* Every connection and UDP flow is a descriptor: take the hard limit, not the default 1024. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  for (int i = 0; i < argc; i++) {
    char *end;
    if (!strcmp(argv[i], "--pid") && i + 1 < argc) pid = strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--udp-idle") && i + 1 < argc) {
      udp_idle = strtol(argv[++i], &end, 10);
      if (*end || udp_idle < 1 || udp_idle > 86400) return usage_error("proxy", argv[i]);
    } else if (!strcmp(argv[i], "--udp-flows") && i + 1 < argc) {
      udp_flows = strtol(argv[++i], &end, 10);
      if (*end || udp_flows < 1 || udp_flows > 1000000) return usage_error("proxy", argv[i]);
    } else if (!strcmp(argv[i], "--map") && i + 1 < argc) {
      if (!(nmaps & (nmaps - 1))) {
        port_map *grown = realloc(maps, (size_t)(nmaps ? nmaps * 2 : 1) * sizeof *maps);
        if (!grown) return fail_line("allocating");
        maps = grown;
      }
      if (listen_on(argv[++i], &maps[nmaps]) < 0) {
        char what[160];
        snprintf(what, sizeof what, "publishing %s", argv[i]);
        return fail_line(what);
      }
      nmaps++;
    } else return usage_error("proxy", argv[i]);
  }
  if (pid <= 0 || nmaps == 0) return usage_error("proxy", "--pid and --map");
  udp_relay udp;
  if (udp_relay_init(&udp, (long long)udp_idle * 1000, (size_t)udp_flows) < 0) return fail_line("allocating");

  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (pidfd < 0) return fail_line("pidfd_open of the container's process");
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/ns/net", pid);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return fail_line("opening the container's network namespace");
  if (setns(nsfd, CLONE_NEWNET) < 0) return fail_line("joining the container's network namespace");
  close(nsfd);
  printf("ready\n");
  fflush(stdout);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); if (devnull > 1) close(devnull); }

  conn *conns = NULL;
  size_t nconns = 0;
  struct pollfd *pfds = NULL;
  size_t cap = 0;
  for (;;) {
    int timeout = udp_relay_expire(&udp);
    size_t need = 2 + (size_t)nmaps + 2 * nconns;
    if (need > cap) {
      cap = need * 2;
      pfds = realloc(pfds, cap * sizeof *pfds);
      if (!pfds) return fail_line("allocating");
    }
    size_t n = 0;
    pfds[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
    for (int i = 0; i < nmaps; i++) pfds[n++] = (struct pollfd){ .fd = maps[i].fd, .events = POLLIN };
    for (conn *c = conns; c; c = c->next) {
      /* Each socket: readable when its buffer toward the other side is empty, writable when there is something for it. */
      pipe_dir *in = &c->d[0], *out = &c->d[1];
      short client_ev = 0, ctr_ev = 0;
      if (c->connecting) ctr_ev = POLLOUT;
      else {
        if (!in->eof && in->len == 0) client_ev |= POLLIN;
        if (!out->eof && out->len == 0) ctr_ev |= POLLIN;
        if (in->len) ctr_ev |= POLLOUT;
        if (out->len) client_ev |= POLLOUT;
      }
      pfds[n++] = (struct pollfd){ .fd = in->from, .events = client_ev };
      pfds[n++] = (struct pollfd){ .fd = out->from, .events = ctr_ev };
    }
    size_t flows_at = n;
    pfds[n++] = (struct pollfd){ .fd = udp.epfd, .events = POLLIN };
    if (poll(pfds, n, timeout) < 0) {
      if (errno == EINTR) continue;
      return fail_line("poll");
    }
    if (pfds[0].revents) break; /* the container's process ended */
    size_t k = 1 + (size_t)nmaps;
    conn **link = &conns;
    for (conn *c = conns; c;) {
      short cre = pfds[k].revents, tre = pfds[k + 1].revents;
      k += 2;
      int broken = 0;
      if (c->connecting && tre) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->d[1].from, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) broken = 1;
        else c->connecting = 0;
      } else if (!c->connecting && (cre || tre)) {
        broken = pump(&c->d[0]) < 0 || pump(&c->d[1]) < 0;
      }
      int done = c->d[0].shut && c->d[1].shut;
      if (broken || done) {
        conn *next = c->next;
        *link = next;
        conn_free(c);
        nconns--;
        c = next;
      } else {
        link = &c->next;
        c = c->next;
      }
    }
    if (pfds[flows_at].revents) udp_relay_replies(&udp);
    for (int i = 0; i < nmaps; i++) {
      if (!(pfds[1 + i].revents & POLLIN)) continue;
      if (maps[i].udp) { udp_relay_datagrams(&udp, &maps[i]); continue; }
      for (;;) {
        int client = accept4(maps[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) break;
        conn *c = conn_open(client, &maps[i]);
        if (!c) continue;
        c->next = conns;
        conns = c;
        nconns++;
      }
    }
  }
  while (conns) { conn *next = conns->next; conn_free(conns); conns = next; }
  udp_relay_close(&udp);
  free(pfds);
  free(maps);
  return 0;
}
