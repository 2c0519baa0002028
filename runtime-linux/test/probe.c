/*
 * A probe run inside test containers: tries what an isolated process must not
 * do and prints "name errno" per attempt (0 = it worked). Built static by the
 * tests, so it needs nothing from the image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, long rc) {
  printf("%s %d\n", name, rc < 0 ? errno : 0);
}

static long sock(int family, int type, int proto) {
  int fd = socket(family, type, proto);
  if (fd >= 0) close(fd);
  return fd;
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
#define TRY(name, expr) do { if (!only || !strcmp(only, name)) { errno = 0; report(name, (long)(expr)); } } while (0)
  TRY("mount", mount("tmpfs", "/tmp", "tmpfs", 0, NULL));
  TRY("umount2", umount2("/proc", MNT_DETACH));
  TRY("reboot", reboot(RB_POWER_OFF));
  TRY("swapon", swapon("/tmp/swap", 0));
  TRY("unshare_net", unshare(CLONE_NEWNET));
  TRY("unshare_user", unshare(CLONE_NEWUSER));
  TRY("unshare_files", unshare(CLONE_FILES));
  TRY("setns", syscall(SYS_setns, 0, 0));
  TRY("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
  TRY("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  TRY("add_key", syscall(SYS_add_key, "user", "k", "v", 1, -2));
  TRY("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, NULL, 0));
  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.size = sizeof pe;
  pe.type = PERF_TYPE_SOFTWARE;
  pe.config = PERF_COUNT_SW_CPU_CLOCK;
  TRY("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));
  TRY("init_module", syscall(SYS_init_module, NULL, 0, ""));
  TRY("finit_module", syscall(SYS_finit_module, -1, "", 0));
  TRY("delete_module", syscall(SYS_delete_module, "x", 0));
  TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  TRY("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
  struct timespec ts = {0, 0};
  TRY("clock_settime", clock_settime(CLOCK_REALTIME, &ts));
  TRY("raw_inet", sock(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  TRY("raw_inet6", sock(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6));
  TRY("packet", sock(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
  TRY("packet_dgram", sock(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL)));
  TRY("udp", sock(AF_INET, SOCK_DGRAM, 0));
  TRY("netlink_raw", sock(AF_NETLINK, SOCK_RAW, 0));
  TRY("chroot", chroot("/tmp"));
  return 0;
}
