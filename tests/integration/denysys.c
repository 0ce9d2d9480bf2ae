/*
 * denysys: runs a program with some system calls answered by an errno
 * (a seccomp filter, see denysys.h), the way systemd's hardening or a
 * container's seccomp profile does.  The integration tests start ftpsd
 * under it (harness.py: FTPS_DENY_OPENAT2=1, or deny=...):
 *
 *   denysys openat2:ENOSYS [mkdirat:EIO ...] -- ftpsd -f -c ftpsd.conf
 *
 * Only for tests: never installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "denysys.h"

static const struct {
	const char	*name;
	long		 nr;
} ds_calls[] = {
	{ "openat2",	SYS_openat2 },
	{ "openat",	SYS_openat },
	{ "mkdirat",	SYS_mkdirat },
	{ "unlinkat",	SYS_unlinkat },
	{ "renameat2",	SYS_renameat2 },
	{ "linkat",	SYS_linkat },
	{ "fsync",	SYS_fsync },
};

static const struct {
	const char	*name;
	int		 err;
} ds_errs[] = {
	{ "ENOSYS", ENOSYS }, { "EPERM", EPERM }, { "EIO", EIO },
	{ "EACCES", EACCES }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS },
};

static int
ds_parse(const char *arg, struct ds_rule *r)
{
	const char	*colon = strchr(arg, ':');
	size_t		 i, n;

	if (colon == NULL)
		return -1;
	n = (size_t)(colon - arg);
	r->nr = -1;
	for (i = 0; i < sizeof(ds_calls) / sizeof(ds_calls[0]); i++)
		if (strlen(ds_calls[i].name) == n &&
		    strncmp(ds_calls[i].name, arg, n) == 0)
			r->nr = ds_calls[i].nr;
	r->err = 0;
	for (i = 0; i < sizeof(ds_errs) / sizeof(ds_errs[0]); i++)
		if (strcmp(ds_errs[i].name, colon + 1) == 0)
			r->err = ds_errs[i].err;
	return r->nr == -1 || r->err == 0 ? -1 : 0;
}

int
main(int argc, char *argv[])
{
	struct ds_rule	 rules[DS_RULES_MAX];
	size_t		 n = 0;
	int		 i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (n == DS_RULES_MAX || ds_parse(argv[i], &rules[n]) != 0) {
			fprintf(stderr, "denysys: bad rule '%s' (SYSCALL:ERRNO, "
			    "e.g. openat2:ENOSYS; at most %d)\n", argv[i],
			    DS_RULES_MAX);
			return 127;
		}
		n++;
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "usage: denysys SYSCALL:ERRNO... -- PROGRAM "
		    "[ARG...]\n");
		return 127;
	}
	if (ds_install(rules, n) == -1) {
		fprintf(stderr, "denysys: seccomp: %s\n", strerror(errno));
		return 127;
	}
	execv(argv[i + 1], argv + i + 1);
	fprintf(stderr, "denysys: %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
}
