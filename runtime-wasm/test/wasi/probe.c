// probe: one small WASI program with a subcommand per behaviour the host
// tests check (exit codes, traps, clocks, random, stdio, sockets, files).
// Build: bash runtime-wasm/test/wasi/build.sh (clang --target=wasm32-wasi).
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int usage(void) {
  fprintf(stderr, "usage: probe CMD [ARGS]\n");
  return 2;
}

static long long ns(struct timespec t) { return (long long)t.tv_sec * 1000000000LL + t.tv_nsec; }

// proc_raise is gone from wasi-libc's headers; import it directly.
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);

static volatile int sink;

// Recursion that keeps everything in wasm locals: it exhausts the engine's
// call stack, not the C stack in linear memory.
__attribute__((noinline)) static int deep(int n) {
  if (sink == -1) return 0;
  int r = deep(n + 1);
  sink = r;
  return r + n;
}
#pragma clang diagnostic ignored "-Winfinite-recursion"
static int recurse(int n) {
  volatile char pad[256];
  pad[0] = (char)n;
  return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *cmd = argv[1];

  if (!strcmp(cmd, "args")) {
    for (int i = 0; i < argc; i++) printf("%d=%s\n", i, argv[i]);
    return 0;
  }
  if (!strcmp(cmd, "env")) {
    extern char **environ;
    for (char **e = environ; *e; e++) printf("%s\n", *e);
    return 0;
  }
  if (!strcmp(cmd, "exit") && argc > 2) {
    printf("exiting\n");
    exit(atoi(argv[2]));
  }
  if (!strcmp(cmd, "trap")) {
    printf("before trap\n");
    __builtin_trap();
  }
  if (!strcmp(cmd, "oob")) {
    volatile uint32_t *p = (uint32_t *)0xfffffff0u;
    *p = 1;
    return 0;
  }
  if (!strcmp(cmd, "stack")) return recurse(0);
  if (!strcmp(cmd, "deep")) return deep(0);
  if (!strcmp(cmd, "divzero")) {
    volatile int z = 0;
    return 10 / z;
  }
  if (!strcmp(cmd, "clocks")) {
    static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    static const char *names[] = {"realtime", "monotonic", "process", "thread"};
    for (int i = 0; i < 4; i++) {
      struct timespec t, r;
      int a = clock_gettime(ids[i], &t);
      int b = clock_getres(ids[i], &r);
      printf("%s %d %lld %d %lld\n", names[i], a, ns(t), b, ns(r));
    }
    return 0;
  }
  if (!strcmp(cmd, "badclock")) {
    __wasi_timestamp_t t;
    printf("%d\n", __wasi_clock_time_get(7, 0, &t));
    return 0;
  }
  if (!strcmp(cmd, "sleep") && argc > 2) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    usleep(atoi(argv[2]) * 1000);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("slept %lld\n", (ns(b) - ns(a)) / 1000000);
    return 0;
  }
  if (!strcmp(cmd, "sleep-abs") && argc > 2) {
    // poll_oneoff with an absolute monotonic deadline.
    __wasi_timestamp_t now;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &now);
    __wasi_subscription_t sub = {0};
    sub.userdata = 42;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = now + (__wasi_timestamp_t)atoi(argv[2]) * 1000000;
    sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    int r = __wasi_poll_oneoff(&sub, &ev, 1, &n);
    __wasi_timestamp_t after;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &after);
    printf("poll %d n=%u userdata=%llu type=%u waited>=%d\n", r, (unsigned)n, (unsigned long long)ev.userdata, ev.type,
           after >= sub.u.u.clock.timeout);
    return 0;
  }
  if (!strcmp(cmd, "poll-stdin")) {
    __wasi_subscription_t subs[2] = {0};
    subs[0].userdata = 1;
    subs[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    subs[0].u.u.fd_read.file_descriptor = 0;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 5000000000ULL;
    __wasi_event_t ev[2];
    __wasi_size_t n = 0;
    int r = __wasi_poll_oneoff(subs, ev, 2, &n);
    printf("poll %d n=%u first=%llu nbytes=%llu hangup=%d\n", r, (unsigned)n, (unsigned long long)ev[0].userdata,
           (unsigned long long)ev[0].fd_readwrite.nbytes, (ev[0].fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) != 0);
    return 0;
  }
  if (!strcmp(cmd, "random") && argc > 2) {
    int n = atoi(argv[2]);
    unsigned char *buf = malloc(n);
    if (__wasi_random_get(buf, n)) return 1;
    for (int i = 0; i < n; i++) printf("%02x", buf[i]);
    printf("\n");
    return 0;
  }
  if (!strcmp(cmd, "now")) {
    // Output that depends on time and randomness (for deterministic mode).
    struct timespec t, m;
    clock_gettime(CLOCK_REALTIME, &t);
    clock_gettime(CLOCK_MONOTONIC, &m);
    unsigned char r[8];
    (void)__wasi_random_get(r, sizeof r);
    printf("realtime=%lld monotonic=%lld random=", ns(t), ns(m));
    for (int i = 0; i < 8; i++) printf("%02x", r[i]);
    printf(" rand=%d\n", rand());
    return 0;
  }
  if (!strcmp(cmd, "lines") && argc > 2) {
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) printf("line %d\n", i);
    return 0;
  }
  if (!strcmp(cmd, "lines-unbuffered") && argc > 2) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) printf("line %d\n", i);
    return 0;
  }
  if (!strcmp(cmd, "badptr") && argc > 2) {
    /* fd_write to stdout with an iovec past the end of linear memory (iov)
       or an iovec array past it (array): the host must trap, writing nothing. */
    size_t end = __builtin_wasm_memory_size(0) * 65536;
    __wasi_ciovec_t iov = {(const uint8_t *)(end - 2), 8};
    __wasi_size_t n = 0;
    printf("before\n");
    fflush(stdout);
    int bad_array = !strcmp(argv[2], "array");
    __wasi_errno_t e = __wasi_fd_write(1, bad_array ? (const __wasi_ciovec_t *)(end - 4) : &iov, 1, &n);
    printf("fd_write=%d n=%lu\n", e, (unsigned long)n);
    return 0;
  }
  if (!strcmp(cmd, "cat")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    return 0;
  }
  if (!strcmp(cmd, "stderr")) {
    fprintf(stderr, "to stderr\n");
    printf("to stdout\n");
    return 0;
  }
  if (!strcmp(cmd, "sockets")) {
    int a = shutdown(1, SHUT_RDWR);
    int ea = errno;
    int b = shutdown(99, SHUT_RDWR);
    int eb = errno;
    printf("shutdown(stdout)=%d %s\n", a, ea == ENOTSOCK ? "ENOTSOCK" : strerror(ea));
    printf("shutdown(99)=%d %s\n", b, eb == EBADF ? "EBADF" : strerror(eb));
    __wasi_size_t nr;
    __wasi_roflags_t fl;
    __wasi_iovec_t iov = {0};
    printf("sock_recv(1)=%d\n", __wasi_sock_recv(1, &iov, 1, 0, &nr, &fl));
    __wasi_ciovec_t ciov = {0};
    printf("sock_send(1)=%d\n", __wasi_sock_send(1, &ciov, 1, 0, &nr));
    __wasi_fd_t nfd;
    printf("sock_accept(1)=%d sock_accept(99)=%d\n", __wasi_sock_accept(1, 0, &nfd), __wasi_sock_accept(99, 0, &nfd));
    return 0;
  }
  if (!strcmp(cmd, "raise")) {
    printf("proc_raise=%d\n", raw_proc_raise(15));
    return 0;
  }
  if (!strcmp(cmd, "alloc") && argc > 2) {
    // Allocates MiB by MiB until malloc fails or the goal is reached. The
    // blocks are kept and read back so the compiler cannot drop them.
    static char *blocks[4096];
    int goal = atoi(argv[2]), got = 0;
    while (got < goal && got < 4096) {
      char *p = malloc(1 << 20);
      if (!p) break;
      memset(p, got + 1, 1 << 20);
      blocks[got++] = p;
    }
    long sum = 0;
    for (int i = 0; i < got; i++) sum += blocks[i][(1 << 20) - 1];
    sink = (int)sum;
    printf("allocated %d MiB\n", got);
    return got >= goal ? 0 : 3;
  }
  if (!strcmp(cmd, "pwd")) {
    char buf[512];
    printf("%s\n", getcwd(buf, sizeof buf));
    return 0;
  }
  if (!strcmp(cmd, "read") && argc > 2) {
    FILE *f = fopen(argv[2], "r");
    if (!f) {
      printf("open %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
    fclose(f);
    return 0;
  }
  if (!strcmp(cmd, "write") && argc > 3) {
    FILE *f = fopen(argv[2], "w");
    if (!f) {
      printf("open %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    fputs(argv[3], f);
    return fclose(f) ? 1 : 0;
  }
  if (!strcmp(cmd, "ls") && argc > 2) {
    DIR *d = opendir(argv[2]);
    if (!d) {
      printf("opendir %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) printf("%s\n", e->d_name);
    closedir(d);
    return 0;
  }
  if (!strcmp(cmd, "spin") && argc > 2) {
    // Burns CPU with a syscall per round, so a time limit can end it.
    long rounds = atol(argv[2]);
    for (long i = 0; i < rounds; i++) {
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      for (int j = 0; j < 1000; j++) sink += j;
    }
    printf("spun\n");
    return 0;
  }
  return usage();
}
