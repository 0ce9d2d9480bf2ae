/*
 * denysys.h: a seccomp filter that answers chosen system calls with an
 * errno, as a container runtime or systemd's SystemCallFilter= does (e.g.
 * RestrictSUIDSGID=yes answers openat2 with ENOSYS).  Shared by the
 * denysys wrapper (tests/integration/denysys.c) and the vfs unit tests.
 * Only for tests: it limits nothing else and is never installed.
 */
#ifndef FTPS_DENYSYS_H
#define FTPS_DENYSYS_H

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stddef.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define DS_ARCH		AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define DS_ARCH		AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define DS_ARCH		AUDIT_ARCH_I386
#elif defined(__riscv) && __riscv_xlen == 64
#define DS_ARCH		AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DS_ARCH		AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define DS_ARCH		AUDIT_ARCH_S390X
#else
#error "denysys.h: add this architecture's AUDIT_ARCH_ value"
#endif

#define DS_RULES_MAX	16

struct ds_rule {
	long	 nr;		/* __NR_... */
	int	 err;		/* the errno it gets */
};

/*
 * Installs the filter for this process and whatever it executes (with
 * no_new_privs set, so no root is needed).  0, or -1 with errno.
 */
static inline int
ds_install(const struct ds_rule *rules, size_t n)
{
	struct sock_filter	 f[5 + 2 * DS_RULES_MAX];
	struct sock_fprog	 prog;
	size_t			 i, k = 0;

	if (n > DS_RULES_MAX) {
		errno = E2BIG;
		return -1;
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    DS_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < n; i++) {
		f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
		    BPF_K, (unsigned)rules[i].nr, 0, 1);
		f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((unsigned)rules[i].err &
		    SECCOMP_RET_DATA));
	}
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)k;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

#endif
