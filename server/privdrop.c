/*
 * Dropping root for good (setgroups, setresgid, setresuid, in that
 * order: once the uid is gone the groups can no longer change), then
 * proving it: root must not come back and no capability may be left.
 */
#define _GNU_SOURCE	/* setresuid, getresuid, initgroups */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "err.h"
#include "privdrop.h"

#define PRIV_PWBUF	16384

int
priv_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd	 pw, *res = NULL;
	char		*buf;
	int		 e;

	if ((buf = malloc(PRIV_PWBUF)) == NULL)
		return FTPS_ENOMEM;
	e = getpwnam_r(name, &pw, buf, PRIV_PWBUF, &res);
	if (res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	if (res != NULL)
		return 0;
	if (e != 0 && e != ENOENT && e != ESRCH && e != EBADF &&
	    e != EPERM) {
		errno = e;
		return FTPS_ESYS;
	}
	return FTPS_ENOENT;
}

/* Empties every capability set: effective, permitted, inheritable, ambient. */
static int
priv_clear_caps(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return FTPS_ESYS;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return FTPS_ESYS;
	return 0;
}

/* 1 when any capability is effective or permitted. */
static int
priv_have_caps(void)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[_LINUX_CAPABILITY_U32S_3];
	int				 i;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return 1;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0)
			return 1;
	return 0;
}

static int
priv_resolve(const struct conf *cf, uid_t *uid, gid_t *gid, FILE *errf)
{
	int	 r;

	if ((r = priv_lookup(cf->run_as_user, uid, gid)) == FTPS_ENOENT) {
		fprintf(errf, "run_as_user: no user \"%s\" on this system "
		    "(create it with scripts/install-user, or set "
		    "run_as_user)\n", cf->run_as_user);
		return FTPS_EDENIED;
	}
	if (r != 0) {
		fprintf(errf, "run_as_user: cannot look up \"%s\": %s\n",
		    cf->run_as_user, ftps_strerror(r));
		return r;
	}
	if (*uid == 0 && !cf->allow_root) {
		fprintf(errf, "run_as_user: \"%s\" is root: sessions would "
		    "run with every privilege; choose an unprivileged user "
		    "(or set allow_root = on)\n", cf->run_as_user);
		return FTPS_EDENIED;
	}
	return 0;
}

int
priv_check(const struct conf *cf, FILE *errf)
{
	uid_t	 uid;
	gid_t	 gid;

	if (geteuid() != 0)
		return 0;
	return priv_resolve(cf, &uid, &gid, errf) == 0 ? 0 : FTPS_EDENIED;
}

int
priv_drop(const struct conf *cf, char *note, size_t notelen, FILE *errf)
{
	uid_t	 uid, ruid, euid, suid;
	gid_t	 gid, rgid, egid, sgid;
	int	 r;

	snprintf(note, notelen, "running as uid %u", (unsigned)geteuid());
	if (geteuid() != 0) {
		/* Nothing to switch; shed what a service manager gave. */
		if (priv_clear_caps() != 0 || priv_have_caps()) {
			fprintf(errf, "cannot drop capabilities: %s\n",
			    strerror(errno));
			return FTPS_ESYS;
		}
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (strcmp(cf->run_as_user, "root") != 0)
			snprintf(note, notelen, "running as uid %u (not "
			    "started as root: run_as_user %s not applied)",
			    (unsigned)geteuid(), cf->run_as_user);
		return 0;
	}
	if ((r = priv_resolve(cf, &uid, &gid, errf)) != 0)
		return r;
	if (uid == 0) {
		snprintf(note, notelen, "running as root (allow_root = on)");
		return 0;
	}
	if (initgroups(cf->run_as_user, gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		fprintf(errf, "cannot switch to run_as_user %s: %s\n",
		    cf->run_as_user, strerror(errno));
		return FTPS_ESYS;
	}
	/* SECURITY: a half-done switch would leave a way back to root. */
	if (setuid(0) != -1 || seteuid(0) != -1 ||
	    getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid) {
		fprintf(errf, "run_as_user %s: root could be regained after "
		    "the switch; refusing to run\n", cf->run_as_user);
		return FTPS_EDENIED;
	}
	if (priv_clear_caps() != 0 || priv_have_caps()) {
		fprintf(errf, "run_as_user %s: capabilities remain after the "
		    "switch; refusing to run\n", cf->run_as_user);
		return FTPS_EDENIED;
	}
	/* ftpsd never executes anything; nothing may gain privileges. */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	snprintf(note, notelen, "running as %s (uid %u, gid %u)",
	    cf->run_as_user, (unsigned)uid, (unsigned)gid);
	return 0;
}
