// clocks: clock_gettime and clock_getres for each clock, sleeping, and
// random bytes from getentropy.
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>
#ifdef __wasi__
#include <wasi/api.h>
#endif

#include "common.h"

static volatile unsigned long spin;

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

// An unknown clock id. wasi-libc's clockid_t points to the id, so the id
// goes to the WASI call directly.
static int bad_clock(int res) {
#ifdef __wasi__
  __wasi_timestamp_t out;
  __wasi_errno_t e = res ? __wasi_clock_res_get(99, &out) : __wasi_clock_time_get(99, 1, &out);
  errno = e;
  return e ? -1 : 0;
#else
  struct timespec t;
  return res ? clock_getres((clockid_t)99, &t) : clock_gettime((clockid_t)99, &t);
#endif
}

static void clock_checks(const char *name, clockid_t id) {
  struct timespec res, a, b;
  char label[64];
  snprintf(label, sizeof label, "getres %s", name);
  errno = 0;
  if (clock_getres(id, &res) != 0) printf("%s: %s\n", label, errname(errno));
  else printf("%s: %s\n", label, ns(res) > 0 && ns(res) <= 1000000000LL ? "ok, within (0, 1s]" : "OUT OF RANGE");
  snprintf(label, sizeof label, "gettime %s", name);
  errno = 0;
  if (clock_gettime(id, &a) != 0) {
    printf("%s: %s\n", label, errname(errno));
    return;
  }
  // Work for at least 20 ms of monotonic time, then read the clock again.
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    for (int i = 0; i < 100000; i++) spin += (unsigned long)i;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (ns(now) - ns(start) < 20000000LL);
  clock_gettime(id, &b);
  printf("%s: ok, %s\n", label, ns(b) > ns(a) ? "advances" : "DOES NOT ADVANCE");
}

int main(void) {
  clock_checks("REALTIME", CLOCK_REALTIME);
  clock_checks("MONOTONIC", CLOCK_MONOTONIC);
  clock_checks("PROCESS_CPUTIME", CLOCK_PROCESS_CPUTIME_ID);
  clock_checks("THREAD_CPUTIME", CLOCK_THREAD_CPUTIME_ID);

  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  printf("realtime after 2020: %s\n", t.tv_sec > 1577836800 ? "yes" : "no");
  time_t now = time(NULL);
  printf("time() near realtime: %s\n", now >= t.tv_sec && now <= t.tv_sec + 5 ? "yes" : "no");
  struct timeval tv;
  CHECK("gettimeofday", gettimeofday(&tv, NULL));
  printf("gettimeofday near realtime: %s\n", tv.tv_sec >= t.tv_sec && tv.tv_sec <= t.tv_sec + 5 ? "yes" : "no");
  CHECK("gettime bad clock", bad_clock(0));
  CHECK("getres bad clock", bad_clock(1));

  struct timespec m0, m1;
  clock_gettime(CLOCK_MONOTONIC, &m0);
  struct timespec ten = {0, 10000000};
  CHECK("nanosleep 10ms", nanosleep(&ten, NULL));
  clock_gettime(CLOCK_MONOTONIC, &m1);
  printf("monotonic advanced by the sleep: %s\n", ns(m1) - ns(m0) >= 10000000LL ? "yes" : "no");
  struct timespec bad = {0, 1000000000};
  CHECK("nanosleep bad nsec", nanosleep(&bad, NULL));

  unsigned char r1[32] = {0}, r2[32] = {0}, big[300];
  CHECK("getentropy 32", getentropy(r1, sizeof r1));
  CHECK("getentropy 32 again", getentropy(r2, sizeof r2));
  int zero = 1;
  for (size_t i = 0; i < sizeof r1; i++) zero = zero && !r1[i];
  printf("random bytes: %s, %s\n", zero ? "ALL ZERO" : "not all zero", memcmp(r1, r2, sizeof r1) ? "differ" : "SAME TWICE");
  CHECK("getentropy 256", getentropy(big, 256));
  CHECK("getentropy 257", getentropy(big, 257));
  return 0;
}
