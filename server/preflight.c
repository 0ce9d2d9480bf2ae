/*
 * ftpsd -t as run_as_user (the contract is in preflight.h).  Opening a
 * file for real as that user is the only answer that counts: ACLs, a
 * folder on the way without search permission, supplementary groups and
 * read-only mounts all decide, and none of them is guessed here.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "certstore.h"
#include "conf.h"
#include "err.h"
#include "ftps_limits.h"
#include "preflight.h"
#include "privdrop.h"
#include "tls.h"

#define PF_WHO_MAX	160
#define PF_EXIT_MAX	100	/* problems a child reports in its status */
#define PF_GRBUF	4096	/* getgrgid_r's buffer (one name is enough) */

struct pf {
	const struct conf	*cf;
	FILE			*errf;
	const char		*users_file;
	char			 who[PF_WHO_MAX];	/* "run_as_user x" */
	char			 user[FTPS_USER_MAX + 1];
	char			 group[FTPS_USER_MAX + 1];
	int			 problems;
};

/*
 * A file the daemon reads again on every reload: key names the setting.
 * ENOENT was already reported by the check as root.
 */
static void
pf_file(struct pf *pf, const char *key, const char *path)
{
	int	 fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) != -1) {
		close(fd);
		return;
	}
	if (errno == ENOENT)
		return;
	fprintf(pf->errf, "%s: %s: not readable by %s: %s (a reload reads it "
	    "as that user): chgrp %s %s && chmod g+r %s\n", key, path,
	    pf->who, strerror(errno), pf->group, path, path);
	pf->problems++;
}

/* NAME.ext in certs_dir; the key and the certificate get chown. */
static void
pf_certfile(struct pf *pf, const char *name, const char *ext, int optional)
{
	char	 path[PATH_MAX];
	int	 fd;

	if (snprintf(path, sizeof(path), "%s/%s%s", pf->cf->certs_dir, name,
	    ext) >= (int)sizeof(path))
		return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) != -1) {
		close(fd);
		return;
	}
	if (errno == ENOENT && optional)
		return;
	fprintf(pf->errf, "%s: not readable by %s: %s (a reload loads the "
	    "certificate as that user): chown %s %s, or run certmgr as %s "
	    "(run as root, certmgr gives what it writes to the folder's "
	    "owner)\n", path, pf->who, strerror(errno), pf->user, path,
	    pf->user);
	pf->problems++;
}

static void
pf_certs(struct pf *pf)
{
	const struct conf	*cf = pf->cf;
	char			 nm[FTPS_CERTNAME_MAX + 1], err[CS_ERR_MAX];
	const char		*name;
	int			 fd;

	if (cf->tls == CONF_TLS_OFF)
		return;
	if ((fd = open(cf->certs_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		if (errno == ENOENT)
			return;
		fprintf(pf->errf, "certs_dir: %s: not readable by %s: %s (a "
		    "reload loads the certificate as that user): chown -R "
		    "%s %s\n", cf->certs_dir, pf->who, strerror(errno),
		    pf->user, cf->certs_dir);
		pf->problems++;
		return;
	}
	close(fd);
	if ((name = tls_cert_name(cf, nm, sizeof(nm))) == NULL) {
		err[0] = '\0';
		if (cs_default_name(cf->certs_dir, nm, sizeof(nm), err,
		    sizeof(err)) != 0) {
			fprintf(pf->errf, "certs_dir: as %s: %s\n", pf->who,
			    err[0] != '\0' ? err : "no default certificate");
			pf->problems++;
			return;
		}
		name = nm;
	}
	pf_certfile(pf, name, ".crt", 0);
	pf_certfile(pf, name, ".key", 0);
	pf_certfile(pf, name, ".chain", 1);
}

/*
 * The transfer log, opened (created when missing) as that user at start
 * and again on every reload (xferlog.c).  Nothing is created here.
 */
static void
pf_xferlog(struct pf *pf)
{
	const char	*path = pf->cf->xferlog_file;
	char		 dir[PATH_MAX], *slash;
	int		 fd;

	if (path == NULL)
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK)) != -1) {
		close(fd);
		return;
	}
	if (errno == ENOENT &&
	    snprintf(dir, sizeof(dir), "%s", path) < (int)sizeof(dir) &&
	    (slash = strrchr(dir, '/')) != NULL) {
		slash[slash == dir ? 1 : 0] = '\0';
		/* Real and effective ids are the same here. */
		if (access(dir, W_OK | X_OK) == 0)
			return;
		path = dir;
	}
	fprintf(pf->errf, "xferlog_file: %s: not writable by %s: %s (ftpsd "
	    "opens the transfer log as that user at start and on every "
	    "reload): chown %s %s\n", path, pf->who, strerror(errno),
	    pf->user, path);
	pf->problems++;
}

/*
 * A home as a login opens it (vfs.c: O_PATH), then listed; where names
 * the origin: "USERS_FILE:LINE: user NAME" or "anonymous_root".  Only
 * warnings: a reload does not trip on a home, and one account's missing
 * folder must not keep the service (ExecStartPre runs -t) from the others.
 */
static void
pf_home(struct pf *pf, const char *where, const char *home, int writable)
{
	int	 fd;

	if ((fd = open(home, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			fprintf(pf->errf, "%s: warning: home %s does not "
			    "exist (this account cannot log in): create it "
			    "(install -d -o %s -g %s -m 0750 %s)\n", where,
			    home, pf->user, pf->group, home);
		else if (errno == ENOTDIR)
			fprintf(pf->errf, "%s: warning: home %s is not a "
			    "directory (this account cannot log in)\n", where,
			    home);
		else
			fprintf(pf->errf, "%s: warning: home %s is not "
			    "accessible to %s: %s (this account cannot log "
			    "in): give it to %s, and let %s search every "
			    "folder above it\n", where, home, pf->who,
			    strerror(errno), pf->user, pf->user);
		return;
	}
	close(fd);
	if ((fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(pf->errf, "%s: warning: home %s cannot be listed by "
		    "%s: %s (LIST and downloads would fail): chown %s %s\n",
		    where, home, pf->who, strerror(errno), pf->user, home);
		return;
	}
	/* The home of the configuration, not a client path: no vfs. */
	if (writable && access(home, W_OK) == -1)
		fprintf(pf->errf, "%s: warning: home %s is not writable by "
		    "%s: %s (the account is rw: uploads would fail)\n", where,
		    home, pf->who, strerror(errno));
	close(fd);
}

static int
pf_user_cb(const struct user *u, unsigned long line, void *arg)
{
	struct pf	*pf = arg;
	char		 where[PATH_MAX + FTPS_USER_MAX + 64];

	snprintf(where, sizeof(where), "%s:%lu: user %s", pf->users_file,
	    line, u->name);
	pf_home(pf, where, u->home, (u->perms & PERM_WRITE) != 0);
	return 0;
}

/* Everything, as whoever this process is now; full: the files too. */
static void
pf_run(struct pf *pf, const char *conffile, const struct userdb *users,
    int full)
{
	const struct conf	*cf = pf->cf;

	if (full) {
		pf_file(pf, "configuration", conffile);
		pf_file(pf, "users_file", cf->users_file);
		pf_certs(pf);
		if (cf->tls != CONF_TLS_OFF &&
		    cf->tls_client_cert != CONF_TLS_OFF) {
			pf_file(pf, "tls_client_ca", cf->tls_client_ca);
			pf_file(pf, "tls_crl", cf->tls_crl);
		}
	}
	pf_xferlog(pf);
	(void)auth_users_each(users, pf_user_cb, pf);
	if (cf->anonymous && cf->anonymous_root != NULL)
		pf_home(pf, "anonymous_root", cf->anonymous_root, 0);
}

/* The name of group gid into pf->group, else its number. */
static void
pf_group_name(struct pf *pf, gid_t gid)
{
	struct group	 gr, *res = NULL;
	char		 buf[PF_GRBUF];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(pf->group, sizeof(pf->group), "%s", gr.gr_name);
	else
		snprintf(pf->group, sizeof(pf->group), "%u", (unsigned)gid);
}

/* The child's count of problems, or 1 when it did not finish. */
static int
pf_wait(struct pf *pf, pid_t pid)
{
	int	 st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			fprintf(pf->errf, "ftpsd: the check as %s: wait: %s\n",
			    pf->who, strerror(errno));
			return 1;
		}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(pf->errf, "ftpsd: the check as %s ended by signal %d\n",
	    pf->who, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 1;
}

int
pf_check(const struct conf *cf, const char *conffile,
    const struct userdb *users, FILE *errf)
{
	struct pf	 pf;
	char		 note[256];
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 pid;

	memset(&pf, 0, sizeof(pf));
	pf.cf = cf;
	pf.errf = errf;
	pf.users_file = cf->users_file;
	if (geteuid() != 0 || priv_lookup(cf->run_as_user, &uid, &gid) != 0 ||
	    uid == 0) {
		/*
		 * This process is who runs the daemon (or run_as_user is
		 * unknown, which priv_check reported): it read the files.
		 */
		uid = geteuid();
		gid = getegid();
		snprintf(pf.who, sizeof(pf.who), "uid %u (this ftpsd -t)",
		    (unsigned)uid);
		snprintf(pf.user, sizeof(pf.user), "%u", (unsigned)uid);
		pf_group_name(&pf, gid);
		pf_run(&pf, conffile, users, 0);
		return pf.problems;
	}
	snprintf(pf.who, sizeof(pf.who), "run_as_user %s", cf->run_as_user);
	snprintf(pf.user, sizeof(pf.user), "%s", cf->run_as_user);
	pf_group_name(&pf, gid);

	/* Nothing buffered may be written twice. */
	fflush(stdout);
	fflush(errf);
	if ((pid = fork()) == -1) {
		fprintf(errf, "ftpsd: cannot check as %s: fork: %s\n", pf.who,
		    strerror(errno));
		return 1;
	}
	if (pid == 0) {
		/* The same switch as the daemon's, so the same answers. */
		if (priv_drop(cf, note, sizeof(note), errf) != 0) {
			fflush(errf);
			_exit(1);
		}
		pf_run(&pf, conffile, users, 1);
		fflush(errf);
		_exit(pf.problems > PF_EXIT_MAX ? PF_EXIT_MAX : pf.problems);
	}
	return pf_wait(&pf, pid);
}
