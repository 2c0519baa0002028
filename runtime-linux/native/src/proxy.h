/*
 * The port proxy's parts: proxy.c binds the host sockets, runs the event loop
 * and relays TCP connections; proxy_udp.c relays UDP datagrams per client.
 */
#ifndef SKIFF_PROXY_H
#define SKIFF_PROXY_H

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>

#define PROXY_BUF_SIZE 65536 /* a whole UDP datagram (at most 65,527 bytes without jumbograms) */

/* One published port. `fd` lives in the host's network namespace: listening for TCP, bound for UDP. */
typedef struct {
  int fd;
  int family;
  int udp;
  int container_port;
  size_t nflows; /* UDP: the flows open for this port */
} port_map;

/* The container's side of a port: its loopback at container_port (the proxy is in its network namespace then). */
socklen_t container_address(const port_map *m, struct sockaddr_storage *ss);

typedef struct udp_flow udp_flow;

/*
 * UDP "connections": each client address (host ip:port) that sends to a
 * published port gets a flow, a socket in the container's namespace connected
 * to the container's port, so the container sees one peer per client and its
 * replies go back to that client. A flow closes after `idle_ms` without a
 * datagram either way; a port keeps at most `max_flows`, closing its most idle
 * one for a new client. Flows sit in an epoll set (one pollfd for them all), a
 * hash by client address and a list from the most idle to the latest used,
 * so a datagram costs the same with one flow or thousands.
 */
typedef struct {
  int epfd;
  udp_flow **buckets;
  udp_flow *oldest, *newest;
  size_t count;
  long long idle_ms;
  size_t max_flows;
  char *buf;
} udp_relay;

int udp_relay_init(udp_relay *r, long long idle_ms, size_t max_flows);
/* Asks the host socket of a UDP port for the address each datagram was sent to, to answer from it. */
int udp_prepare_host_socket(int fd, int family);
/* Closes flows idle too long; returns the ms until the next one would be, or -1 if there are none. */
int udp_relay_expire(udp_relay *r);
/* Sends what the container answered on each ready flow to its client (r->epfd polled readable). */
void udp_relay_replies(udp_relay *r);
/* Reads the datagrams waiting on a UDP port's host socket and sends each through its client's flow. */
void udp_relay_datagrams(udp_relay *r, port_map *m);
void udp_relay_close(udp_relay *r);

#endif
