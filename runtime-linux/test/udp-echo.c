/*
 * A UDP echo server for the published-port tests: `udp-echo PORT` answers
 * every datagram with "<sender ip:port> <datagram>", so a test sees both that
 * the reply came back and which peer the container saw. Built static by the
 * tests, so it needs nothing from the image.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: udp-echo PORT\n"); return 2; }
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  int zero = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero); /* IPv4 too, as ::ffff:a.b.c.d */
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = in6addr_any, .sin6_port = htons((uint16_t)atoi(argv[1])) };
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("udp-echo: bind"); return 1; }
  printf("listening\n");
  fflush(stdout);
  static char buf[65536], out[65600];
  for (;;) {
    struct sockaddr_in6 from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
    if (n < 0) continue;
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &from.sin6_addr, ip, sizeof ip);
    const char *shown = strncmp(ip, "::ffff:", 7) ? ip : ip + 7;
    int head = snprintf(out, sizeof out, "%s:%d ", shown, ntohs(from.sin6_port));
    memcpy(out + head, buf, (size_t)n);
    sendto(fd, out, (size_t)head + (size_t)n, 0, (struct sockaddr *)&from, len);
  }
}
