/*
 * UDP relaying for `skiff-runtime proxy` (see proxy.h). Datagrams are
 * independent: one that cannot be sent now (a full socket buffer, nothing
 * listening in the container yet) is dropped, as the network would.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

#define BURST 64 /* datagrams read from one socket per wakeup, so one busy client does not starve the others */
#define BUCKETS 4096 /* a power of two */

struct udp_flow {
  int fd; /* in the container's namespace, connected to its port on loopback */
  port_map *m;
  struct sockaddr_storage client;
  socklen_t client_len;
  /* The host address the client last sent to: replies leave from it, or a client that
   * sent to one of several addresses on a wildcard port would drop them. */
  union { struct in_pktinfo v4; struct in6_pktinfo v6; } local;
  int has_local;
  long long last; /* ms, monotonic: the last datagram either way */
  udp_flow *older, *newer; /* the list by last use */
  udp_flow *hnext;         /* the hash bucket's chain */
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int udp_relay_init(udp_relay *r, long long idle_ms, size_t max_flows) {
  memset(r, 0, sizeof *r);
  r->idle_ms = idle_ms;
  r->max_flows = max_flows;
  r->buf = malloc(PROXY_BUF_SIZE);
  r->buckets = calloc(BUCKETS, sizeof *r->buckets);
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  return r->buf && r->buckets && r->epfd >= 0 ? 0 : -1;
}

/* FNV-1a over the port and the client's address. */
static size_t bucket_of(const port_map *m, const struct sockaddr_storage *a, socklen_t len) {
  uint64_t h = 1469598103934665603ull;
  const unsigned char *p = (const unsigned char *)a;
  for (socklen_t i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211ull;
  h = (h ^ (uint64_t)(uintptr_t)m) * 1099511628211ull;
  return (size_t)(h & (BUCKETS - 1));
}

static void list_remove(udp_relay *r, udp_flow *f) {
  if (f->older) f->older->newer = f->newer; else r->oldest = f->newer;
  if (f->newer) f->newer->older = f->older; else r->newest = f->older;
  f->older = f->newer = NULL;
}

static void list_append(udp_relay *r, udp_flow *f) {
  f->older = r->newest;
  f->newer = NULL;
  if (r->newest) r->newest->newer = f; else r->oldest = f;
  r->newest = f;
}

/* A datagram went through f: it becomes the latest used. */
static void touch(udp_relay *r, udp_flow *f, long long now) {
  f->last = now;
  if (r->newest != f) { list_remove(r, f); list_append(r, f); }
}

int udp_prepare_host_socket(int fd, int family) {
  int one = 1;
  if (family == AF_INET6) return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
}

static void flow_close(udp_relay *r, udp_flow *f) {
  for (udp_flow **link = &r->buckets[bucket_of(f->m, &f->client, f->client_len)]; *link; link = &(*link)->hnext)
    if (*link == f) { *link = f->hnext; break; }
  list_remove(r, f);
  close(f->fd); /* which takes it out of the epoll set */
  f->m->nflows--;
  r->count--;
  free(f);
}

int udp_relay_expire(udp_relay *r) {
  long long now = now_ms();
  while (r->oldest && r->oldest->last + r->idle_ms <= now) flow_close(r, r->oldest);
  if (!r->oldest) return -1;
  long long left = r->oldest->last + r->idle_ms - now;
  return left > 60000 ? 60000 : (int)left;
}

/* sendto the client, from the address it sent to. */
static void send_to_client(const udp_flow *f, const char *buf, size_t len) {
  union { char raw[CMSG_SPACE(sizeof(struct in6_pktinfo))]; struct cmsghdr align; } ctl;
  struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
  struct msghdr msg = { .msg_name = (void *)&f->client, .msg_namelen = f->client_len, .msg_iov = &iov, .msg_iovlen = 1 };
  if (f->has_local) {
    memset(&ctl, 0, sizeof ctl);
    msg.msg_control = ctl.raw;
    struct cmsghdr *c = (struct cmsghdr *)ctl.raw;
    if (f->m->family == AF_INET6) {
      struct in6_pktinfo pi = { .ipi6_addr = f->local.v6.ipi6_addr, .ipi6_ifindex = f->local.v6.ipi6_ifindex };
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
      *c = (struct cmsghdr){ .cmsg_level = IPPROTO_IPV6, .cmsg_type = IPV6_PKTINFO, .cmsg_len = CMSG_LEN(sizeof pi) };
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else {
      /* ipi_spec_dst is the local address the kernel saw the datagram arrive on (an interface's, for a broadcast). */
      struct in_pktinfo pi = { .ipi_ifindex = 0, .ipi_spec_dst = f->local.v4.ipi_spec_dst };
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
      *c = (struct cmsghdr){ .cmsg_level = IPPROTO_IP, .cmsg_type = IP_PKTINFO, .cmsg_len = CMSG_LEN(sizeof pi) };
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  }
  sendmsg(f->m->fd, &msg, MSG_DONTWAIT);
}

void udp_relay_replies(udp_relay *r) {
  struct epoll_event ready[64];
  int nready = epoll_wait(r->epfd, ready, 64, 0);
  for (int k = 0; k < nready; k++) {
    udp_flow *f = ready[k].data.ptr;
    for (int i = 0; i < BURST; i++) {
      ssize_t n = recv(f->fd, r->buf, PROXY_BUF_SIZE, MSG_DONTWAIT);
      if (n >= 0) {
        touch(r, f, now_ms());
        send_to_client(f, r->buf, (size_t)n);
      } else if (errno != ECONNREFUSED && errno != EINTR) {
        break; /* EAGAIN: drained. ECONNREFUSED (nothing listened when we sent) is reported once, then reading goes on */
      }
    }
  }
}

static udp_flow *flow_find(udp_relay *r, const port_map *m, const struct sockaddr_storage *from, socklen_t len) {
  for (udp_flow *f = r->buckets[bucket_of(m, from, len)]; f; f = f->hnext)
    if (f->m == m && f->client_len == len && !memcmp(&f->client, from, len)) return f;
  return NULL;
}

/* The port's most idle flow makes room for a new client. */
static void evict_oldest(udp_relay *r, const port_map *m) {
  for (udp_flow *f = r->oldest; f; f = f->newer)
    if (f->m == m) { flow_close(r, f); return; }
}

/* A socket connected to the container's port on its loopback (we are in its network namespace now). */
static udp_flow *flow_open(udp_relay *r, port_map *m, const struct sockaddr_storage *from, socklen_t len) {
  if (m->nflows >= r->max_flows) evict_oldest(r, m);
  int fd = socket(m->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = container_address(m, &ss);
  udp_flow *f = calloc(1, sizeof *f);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = f };
  if (!f || connect(fd, (struct sockaddr *)&ss, sl) < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) { free(f); close(fd); return NULL; }
  f->fd = fd;
  f->m = m;
  memcpy(&f->client, from, len);
  f->client_len = len;
  size_t b = bucket_of(m, from, len);
  f->hnext = r->buckets[b];
  r->buckets[b] = f;
  list_append(r, f);
  r->count++;
  m->nflows++;
  return f;
}

void udp_relay_datagrams(udp_relay *r, port_map *m) {
  for (int i = 0; i < BURST; i++) {
    union { char raw[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; } ctl;
    struct sockaddr_storage from;
    struct iovec iov = { .iov_base = r->buf, .iov_len = PROXY_BUF_SIZE };
    struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw, .msg_controllen = sizeof ctl.raw };
    ssize_t n = recvmsg(m->fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return; /* EAGAIN: drained */
    }
    udp_flow *f = flow_find(r, m, &from, msg.msg_namelen);
    if (!f) f = flow_open(r, m, &from, msg.msg_namelen);
    if (!f) continue; /* no socket to spare: this datagram is lost */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) { memcpy(&f->local.v4, CMSG_DATA(c), sizeof f->local.v4); f->has_local = 1; }
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) { memcpy(&f->local.v6, CMSG_DATA(c), sizeof f->local.v6); f->has_local = 1; }
    }
    touch(r, f, now_ms());
    /* A refusal left by an earlier datagram (nothing listened then) fails this send once; the retry goes out. */
    if (send(f->fd, r->buf, (size_t)n, MSG_DONTWAIT) < 0 && errno == ECONNREFUSED) send(f->fd, r->buf, (size_t)n, MSG_DONTWAIT);
  }
}

void udp_relay_close(udp_relay *r) {
  while (r->oldest) flow_close(r, r->oldest);
  close(r->epfd);
  free(r->buckets);
  free(r->buf);
  r->buf = NULL;
  r->buckets = NULL;
}
