/*
 * File system commands on the control connection: PWD CWD CDUP MKD RMD
 * DELE RNFR RNTO (RFC 959 4.1), SIZE MDTM MLST (RFC 3659).  Every path goes
 * through vfs_resolve(), so it stays beneath the user's root.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "buf.h"
#include "cmd.h"
#include "err.h"
#include "ftpsd.h"
#include "listing.h"
#include "parse.h"
#include "session.h"
#include "vfs.h"

/* errno values a client causes by itself: not worth an admin's look. */
static int
cmd_errno_expected(int e)
{
	switch (e) {
	case ENOENT:
	case EEXIST:
	case EACCES:
	case ENOTDIR:
	case EISDIR:
	case ENOTEMPTY:
	case ELOOP:
	case ENAMETOOLONG:
	case EINVAL:
		return 1;
	default:
		return 0;
	}
}

void
cmd_fs_fail(struct session *s, const char *verb, const char *path,
    int code, int err)
{
	char	 cmd[8];
	size_t	 i;
	int	 e = errno;

	if ((err == FTPS_ESYS && !cmd_errno_expected(e)) ||
	    err == FTPS_ENOMEM) {
		for (i = 0; verb[i] != '\0' && i + 1 < sizeof(cmd); i++)
			cmd[i] = (char)toupper((unsigned char)verb[i]);
		cmd[i] = '\0';
		/* path is log_safe()d: quoted, it is one field. */
		sess_log(s, LOG_LVL_WARN, "%s failed path=%s%s%s: %s", cmd,
		    log_is_word(path) ? "" : "\"", path,
		    log_is_word(path) ? "" : "\"",
		    err == FTPS_ESYS ? strerror(e) : ftps_strerror(err));
		errno = e;
	}
	sess_reply_err(s, code, err);
}

int
cmd_new_name_ok(struct session *s, const struct vpath *vp)
{
	if (vfs_name_allowed(vp->name) == 0)
		return 1;
	sess_reply(s, 553, "File name not allowed: it contains control "
	    "characters.");
	return 0;
}

/* The root itself cannot be removed, renamed or replaced. */
static int
cmd_is_root(struct session *s, const struct vpath *vp)
{
	if (strcmp(vp->name, ".") != 0 && strcmp(vp->path, "/") != 0)
		return 0;
	sess_reply(s, 550, "Not allowed on the root directory.");
	return 1;
}

/* PWD (RFC 959 4.1.3); the path quoted per appendix II. */
void
cmd_pwd(struct session *s, const char *arg)
{
	char	 q[2 * FTPS_PATH_MAX];

	if (sess_quote(s->vfs.cwd, q, sizeof(q)) != 0)
		sess_reply(s, 550, "Current directory name too long.");
	else
		sess_reply(s, 257, "\"%s\" is the current directory.", q);
}

/* CWD (RFC 959 4.1.1). */
void
cmd_cwd(struct session *s, const char *arg)
{
	char	 q[2 * FTPS_PATH_MAX], shown[FTPS_PATH_MAX];
	int	 r, e;

	if ((r = vfs_chdir(&s->vfs, arg)) != 0) {
		e = errno;
		log_safe(shown, sizeof(shown), arg);
		errno = e;
		cmd_fs_fail(s, "CWD", shown, 550, r);
		return;
	}
	sess_quote(s->vfs.cwd, q, sizeof(q));
	sess_reply(s, 250, "Directory changed to \"%s\".", q);
}

/* CDUP (RFC 959 4.1.1). */
void
cmd_cdup(struct session *s, const char *arg)
{
	cmd_cwd(s, "..");
}

/* MKD: create a directory beneath the user's root (RFC 959 4.1.3). */
void
cmd_mkd(struct session *s, const char *arg)
{
	struct vpath	vp;
	char		q[LOG_VALUE_MAX];
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "MKD", vp.display, 550, r);
		return;
	}
	if (!cmd_new_name_ok(s, &vp))
		;
	else if ((r = vfs_mkdir(&vp, 0777 & ~s->ctx->conf.file_umask)) != 0)
		cmd_fs_fail(s, "MKD", vp.display, 550, r);
	else {
		sess_reply(s, 257, "\"%s\" created.", vp.quoted);
		sess_log(s, LOG_LVL_INFO, "mkdir path=%s",
		    log_quote(q, sizeof(q), vp.path));
	}
	vpath_free(&vp);
}

/* RMD (RFC 959 4.1.3). */
void
cmd_rmd(struct session *s, const char *arg)
{
	struct vpath	vp;
	char		q[LOG_VALUE_MAX];
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "RMD", vp.display, 550, r);
		return;
	}
	if (cmd_is_root(s, &vp))
		;
	else if ((r = vfs_rmdir(&vp)) != 0)
		cmd_fs_fail(s, "RMD", vp.display, 550, r);
	else {
		sess_reply(s, 250, "Directory removed.");
		sess_log(s, LOG_LVL_INFO, "rmdir path=%s",
		    log_quote(q, sizeof(q), vp.path));
	}
	vpath_free(&vp);
}

/* DELE (RFC 959 4.1.3): files only, never a directory. */
void
cmd_dele(struct session *s, const char *arg)
{
	struct vpath	vp;
	struct stat	st;
	char		q[LOG_VALUE_MAX];
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "DELE", vp.display, 550, r);
		return;
	}
	if (cmd_is_root(s, &vp))
		;
	else if ((r = vfs_lstat(&vp, &st)) != 0)
		/* NOLINTNEXTLINE(bugprone-branch-clone): as vfs_unlink's */
		cmd_fs_fail(s, "DELE", vp.display, 550, r);
	else if (S_ISDIR(st.st_mode))
		sess_reply(s, 550, "Is a directory; use RMD.");
	else if ((r = vfs_unlink(&vp)) != 0)
		cmd_fs_fail(s, "DELE", vp.display, 550, r);
	else {
		sess_reply(s, 250, "File deleted.");
		sess_log(s, LOG_LVL_INFO, "delete path=%s",
		    log_quote(q, sizeof(q), vp.path));
	}
	vpath_free(&vp);
}

/* RNFR (RFC 959 4.1.3): remembers the source for the next command. */
void
cmd_rnfr(struct session *s, const char *arg)
{
	struct vpath	vp;
	struct stat	st;
	char		*p;
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "RNFR", vp.display, 550, r);
		return;
	}
	if (cmd_is_root(s, &vp))
		;
	else if ((r = vfs_lstat(&vp, &st)) != 0)
		cmd_fs_fail(s, "RNFR", vp.display, 550, r);
	else if ((p = strdup(vp.path)) == NULL)
		sess_reply(s, 451, "Out of memory; try again later.");
	else {
		free(s->rnfr);
		s->rnfr = p;
		s->flags |= SF_RNFR;
		sess_reply(s, 350, "Ready for RNTO.");
	}
	vpath_free(&vp);
}

/* RNTO (RFC 959 4.1.3): the gate let it run right after a good RNFR. */
void
cmd_rnto(struct session *s, const char *arg)
{
	struct vpath	from, to;
	char		q[LOG_VALUE_MAX], q2[LOG_VALUE_MAX];
	int		r;

	if ((r = vfs_resolve(&s->vfs, s->rnfr, &from)) != 0) {
		cmd_fs_fail(s, "RNFR", from.display, 550, r);
		return;
	}
	if ((r = vfs_resolve(&s->vfs, arg, &to)) != 0) {
		cmd_fs_fail(s, "RNTO", to.display, 553, r);
		vpath_free(&from);
		return;
	}
	if (cmd_is_root(s, &to) || !cmd_new_name_ok(s, &to))
		;
	else if ((r = vfs_rename(&from, &to)) != 0)
		cmd_fs_fail(s, "RNTO", to.display, 553, r);
	else {
		sess_reply(s, 250, "Rename successful.");
		sess_log(s, LOG_LVL_INFO, "rename from=%s to=%s",
		    log_quote(q, sizeof(q), from.path),
		    log_quote(q2, sizeof(q2), to.path));
	}
	vpath_free(&from);
	vpath_free(&to);
}

/*
 * SIZE (RFC 3659 4).  In TYPE A the transfer size would differ from the
 * file size (CRLF) and computing it means reading the whole file, so SIZE
 * is refused there, as RFC 3659 4.1 allows.
 */
void
cmd_size(struct session *s, const char *arg)
{
	struct vpath	vp;
	struct stat	st;
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "SIZE", vp.display, 550, r);
		return;
	}
	if ((r = vfs_stat(&s->vfs, &vp, &st)) != 0)
		cmd_fs_fail(s, "SIZE", vp.display, 550, r);
	else if (!S_ISREG(st.st_mode))
		sess_reply(s, 550, "Not a regular file.");
	else if (s->flags & SF_TYPE_A)
		sess_reply(s, 550, "SIZE not allowed in ASCII mode; send "
		    "TYPE I first.");
	else
		sess_reply(s, 213, "%lld", (long long)st.st_size);
	vpath_free(&vp);
}

/* MDTM (RFC 3659 3): modification time, UTC, YYYYMMDDHHMMSS. */
void
cmd_mdtm(struct session *s, const char *arg)
{
	struct vpath	vp;
	struct stat	st;
	struct tm	tm;
	char		when[32];
	int		r;

	if ((r = vfs_resolve(&s->vfs, arg, &vp)) != 0) {
		cmd_fs_fail(s, "MDTM", vp.display, 550, r);
		return;
	}
	if ((r = vfs_stat(&s->vfs, &vp, &st)) != 0)
		cmd_fs_fail(s, "MDTM", vp.display, 550, r);
	else if (gmtime_r(&st.st_mtime, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y%m%d%H%M%S", &tm) == 0)
		sess_reply(s, 550, "Modification time out of range.");
	else
		sess_reply(s, 213, "%s", when);
	vpath_free(&vp);
}

/* MLST (RFC 3659 7.2): one entry's facts on the control connection. */
void
cmd_mlst(struct session *s, const char *arg)
{
	struct vpath	vp;
	struct buf	ls, out;
	int		r;

	if ((r = vfs_resolve(&s->vfs, *arg ? arg : ".", &vp)) != 0) {
		cmd_fs_fail(s, "MLST", vp.display, 550, r);
		return;
	}
	buf_init(&ls, FTPS_REPLY_MAX);
	buf_init(&out, FTPS_REPLY_MAX);
	if ((r = ls_format(&s->vfs, &vp, LS_MLST,
	    (s->perms & PERM_WRITE) != 0, s->mlst_facts, &ls)) != 0)
		cmd_fs_fail(s, "MLST", vp.display, 550, r);
	else if (buf_addf(&out, "250-Listing %s\r\n", vp.display) != 0 ||
	    buf_add(&out, buf_str(&ls), buf_len(&ls)) != 0 ||
	    buf_addf(&out, "250 End\r\n") != 0)
		sess_reply(s, 550, "Entry too long.");
	else
		sess_reply_raw(s, buf_str(&out), buf_len(&out));
	buf_free(&ls);
	buf_free(&out);
	vpath_free(&vp);
}
