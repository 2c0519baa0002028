// poll: sleeping with nanosleep, clock_nanosleep and poll timeouts, and
// poll on stdin (the test gives it data) and on a file.
// `poll abstime`: only clock_nanosleep to an absolute time.
#include <poll.h>
#include <sched.h>
#include <time.h>

#include "common.h"

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void waited(const char *label, long long start, long long want_ms) {
  long long ms = (now_ns() - start) / 1000000;
  printf("%s: %s\n", label, ms >= want_ms ? (ms < want_ms + 2000 ? "waited long enough" : "WAITED FAR TOO LONG") : "TOO SHORT");
}

static int abstime(void) {
  struct timespec abs;
  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 30000000;
  if (abs.tv_nsec >= 1000000000) abs.tv_sec++, abs.tv_nsec -= 1000000000;
  long long t0 = now_ns();
  printf("clock_nanosleep TIMER_ABSTIME 30ms: %s\n", errname(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL)));
  waited("clock_nanosleep TIMER_ABSTIME 30ms", t0, 29);
  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_sec -= 1;
  t0 = now_ns();
  printf("clock_nanosleep TIMER_ABSTIME in the past: %s\n", errname(clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL)));
  printf("returned at once: %s\n", now_ns() - t0 < 1000000000LL ? "yes" : "no");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "abstime")) return abstime();
  long long t0 = now_ns();
  struct timespec fifty = {0, 50000000};
  CHECK("nanosleep 50ms", nanosleep(&fifty, NULL));
  waited("nanosleep 50ms", t0, 50);

  t0 = now_ns();
  struct timespec rel = {0, 20000000};
  printf("clock_nanosleep relative 20ms: %s\n", errname(clock_nanosleep(CLOCK_REALTIME, 0, &rel, NULL)));
  waited("clock_nanosleep relative 20ms", t0, 20);

  t0 = now_ns();
  VALUE("poll no fds 30ms", poll(NULL, 0, 30));
  waited("poll no fds 30ms", t0, 30);

  struct pollfd in = {0, POLLIN, 0};
  VALUE("poll stdin", poll(&in, 1, 2000));
  printf("stdin revents: %s\n", in.revents & POLLIN ? "POLLIN" : "no POLLIN");
  char buf[64] = {0};
  VALUE("read stdin", read(0, buf, sizeof buf - 1));
  printf("stdin data: %s", buf);

  put_file("pollfile", "x");
  int fd = open("pollfile", O_RDWR);
  struct pollfd f = {fd, POLLIN | POLLOUT, 0};
  VALUE("poll file", poll(&f, 1, 0));
  printf("file revents: %s%s\n", f.revents & POLLIN ? "POLLIN " : "", f.revents & POLLOUT ? "POLLOUT" : "");
  close(fd);
  struct pollfd bad = {fd, POLLIN, 0};
  VALUE("poll closed fd", poll(&bad, 1, 0));
  printf("closed fd revents: %s\n", bad.revents & POLLNVAL ? "POLLNVAL" : "no POLLNVAL");
  CHECK("sched_yield", sched_yield());
  return 0;
}
