#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void) {
  static int cached = -1;
  if (cached >= 0) return cached;
  cached = 40;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {0};
    if (read(fd, buf, sizeof buf - 1) > 0) cached = atoi(buf);
    close(fd);
  }
  return cached;
}

int apply_rlimits(const process_spec *p, serr_t *e) {
  for (size_t i = 0; i < p->nrlimits; i++) {
    struct rlimit rl = { .rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard };
    if (setrlimit(p->rlimits[i].resource, &rl) < 0) return fail(e, "rlimit", errno, "setrlimit %d to %llu/%llu", p->rlimits[i].resource, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  return 0;
}

int apply_credentials(const process_spec *p, serr_t *e) {
  int last = last_cap();
  if (p->has_caps) {
    for (int c = 0; c <= last; c++) {
      if (p->caps[CAPSET_BOUNDING] & (1ULL << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return fail(e, "capabilities", errno, "drop capability %d from the bounding set", c);
    }
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return fail(e, "capabilities", errno, "prctl PR_SET_KEEPCAPS");
  if (setgroups(p->ngids, p->gids) < 0) return fail(e, "user", errno, "setgroups (%zu groups)", p->ngids);
  if (setresgid(p->gid, p->gid, p->gid) < 0) return fail(e, "user", errno, "setgid %u", (unsigned)p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0) return fail(e, "user", errno, "setuid %u", (unsigned)p->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return fail(e, "capabilities", errno, "prctl PR_SET_KEEPCAPS");
  if (!p->has_caps) return 0;
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  /* No process can gain what it lacks: ask for the requested sets within what we hold
     (a host that withholds a capability, say CAP_SYS_RESOURCE, still runs --privileged). */
  if (syscall(SYS_capget, &hdr, data) < 0) return fail(e, "capabilities", errno, "capget");
  uint64_t held = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)((p->caps[CAPSET_EFFECTIVE] & held) >> (32 * i));
    data[i].permitted = (uint32_t)((p->caps[CAPSET_PERMITTED] & held) >> (32 * i));
    data[i].inheritable = (uint32_t)((p->caps[CAPSET_INHERITABLE] & held) >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return fail(e, "capabilities", errno, "capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return fail(e, "capabilities", errno, "clear the ambient set");
  for (int c = 0; c <= last; c++) {
    if (!(p->caps[CAPSET_AMBIENT] & (1ULL << c))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) return fail(e, "capabilities", errno, "raise ambient capability %d", c);
  }
  return 0;
}
