/*
 * File system commands on the control connection: PWD CWD CDUP MKD RMD
 * DELE RNFR RNTO (RFC 959 4.1), SIZE MDTM MLST (RFC 3659), MFMT
 * (draft-somers-ftp-mfxx).  Every path goes
 * through vfs_resolve(), so it stays beneath the user's root.  Each
 * command but PWD is two halves (cmd.h): its fs part (cmd_x_fs) on the
 * I/O pool does the file system work on what the gate set aside, and the
 * handler (cmd_x) answers on the loop from s->job.
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
cmd_job_resolve(struct cmd_job *j, const char *arg, struct vpath *vp,
    int code)
{
	int	 r;

	if ((r = vfs_resolve(&j->vfs, arg, vp)) != 0)
		cmd_job_fail(j, code, r, vp->display);
	return r;
}

int
cmd_job_new_name(struct cmd_job *j, const struct vpath *vp)
{
	if (vfs_name_allowed(vp->name) == 0)
		return 1;
	cmd_job_refuse(j, 553, "File name not allowed: it contains control "
	    "characters.");
	return 0;
}

/* The root itself cannot be removed, renamed or replaced. */
static int
cmd_job_is_root(struct cmd_job *j, const struct vpath *vp)
{
	if (strcmp(vp->name, ".") != 0 && strcmp(vp->path, "/") != 0)
		return 0;
	cmd_job_refuse(j, 550, "Not allowed on the root directory.");
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

static void
cmd_chdir_fs(struct cmd_job *j, const char *arg)
{
	int	 r;

	if ((r = vfs_find_dir(&j->vfs, arg, &j->vp)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

void
cmd_cwd_fs(struct cmd_job *j)
{
	cmd_chdir_fs(j, j->arg);
}

void
cmd_cdup_fs(struct cmd_job *j)
{
	cmd_chdir_fs(j, "..");
}

/* CWD (RFC 959 4.1.1): the fs part found the directory. */
void
cmd_cwd(struct session *s, const char *arg)
{
	char	 q[2 * FTPS_PATH_MAX];
	int	 r;

	if ((r = vfs_set_cwd(&s->vfs, s->job->vp.path)) != 0) {
		cmd_fs_fail(s, "CWD", s->job->vp.display, 550, r);
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

void
cmd_mkd_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0 ||
	    !cmd_job_new_name(j, &j->vp))
		return;
	if ((r = vfs_mkdir(&j->vp, 0777 & ~j->umask)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/* MKD: create a directory beneath the user's root (RFC 959 4.1.3). */
void
cmd_mkd(struct session *s, const char *arg)
{
	char	 q[LOG_VALUE_MAX];

	sess_reply(s, 257, "\"%s\" created.", s->job->vp.quoted);
	sess_log(s, LOG_LVL_INFO, "mkdir path=%s",
	    log_quote(q, sizeof(q), s->job->vp.path));
}

void
cmd_rmd_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0 ||
	    cmd_job_is_root(j, &j->vp))
		return;
	if ((r = vfs_rmdir(&j->vp)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/* RMD (RFC 959 4.1.3). */
void
cmd_rmd(struct session *s, const char *arg)
{
	char	 q[LOG_VALUE_MAX];

	sess_reply(s, 250, "Directory removed.");
	sess_log(s, LOG_LVL_INFO, "rmdir path=%s",
	    log_quote(q, sizeof(q), s->job->vp.path));
}

void
cmd_dele_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0 ||
	    cmd_job_is_root(j, &j->vp))
		return;
	if ((r = vfs_lstat(&j->vp, &j->st)) != 0)
		/* NOLINTNEXTLINE(bugprone-branch-clone): as vfs_unlink's */
		cmd_job_fail(j, 550, r, j->vp.display);
	else if (S_ISDIR(j->st.st_mode))
		cmd_job_refuse(j, 550, "Is a directory; use RMD.");
	else if ((r = vfs_unlink(&j->vp)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/* DELE (RFC 959 4.1.3): files only, never a directory. */
void
cmd_dele(struct session *s, const char *arg)
{
	char	 q[LOG_VALUE_MAX];

	sess_reply(s, 250, "File deleted.");
	sess_log(s, LOG_LVL_INFO, "delete path=%s",
	    log_quote(q, sizeof(q), s->job->vp.path));
}

void
cmd_rnfr_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0 ||
	    cmd_job_is_root(j, &j->vp))
		return;
	if ((r = vfs_lstat(&j->vp, &j->st)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/* RNFR (RFC 959 4.1.3): remembers the source for the next command. */
void
cmd_rnfr(struct session *s, const char *arg)
{
	char	*p;

	if ((p = strdup(s->job->vp.path)) == NULL) {
		sess_reply(s, 451, "Out of memory; try again later.");
		return;
	}
	free(s->rnfr);
	s->rnfr = p;
	s->flags |= SF_RNFR;
	sess_reply(s, 350, "Ready for RNTO.");
}

void
cmd_rnto_fs(struct cmd_job *j)
{
	int	 r;

	j->verb = "RNFR";
	if (cmd_job_resolve(j, j->rnfr != NULL ? j->rnfr : "", &j->vp,
	    550) != 0)
		return;
	j->verb = "RNTO";
	if (cmd_job_resolve(j, j->arg, &j->vp2, 553) != 0 ||
	    cmd_job_is_root(j, &j->vp2) || !cmd_job_new_name(j, &j->vp2))
		return;
	if ((r = vfs_rename(&j->vp, &j->vp2)) == FTPS_ESYS && errno == EINVAL)
		cmd_job_refuse(j, 553, "Cannot move a folder into itself.");
	else if (r != 0)
		cmd_job_fail(j, 553, r, j->vp2.display);
}

/* RNTO (RFC 959 4.1.3): the gate let it run right after a good RNFR. */
void
cmd_rnto(struct session *s, const char *arg)
{
	char	 q[LOG_VALUE_MAX], q2[LOG_VALUE_MAX];

	sess_reply(s, 250, "Rename successful.");
	sess_log(s, LOG_LVL_INFO, "rename from=%s to=%s",
	    log_quote(q, sizeof(q), s->job->vp.path),
	    log_quote(q2, sizeof(q2), s->job->vp2.path));
}

void
cmd_lookup_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, j->arg, &j->vp, 550) != 0)
		return;
	if ((r = vfs_stat(&j->vfs, &j->vp, &j->st)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/*
 * SIZE (RFC 3659 4).  In TYPE A the transfer size would differ from the
 * file size (CRLF) and computing it means reading the whole file, so SIZE
 * is refused there, as RFC 3659 4.1 allows.
 */
void
cmd_size(struct session *s, const char *arg)
{
	if (!S_ISREG(s->job->st.st_mode))
		sess_reply(s, 550, "Not a regular file.");
	else if (s->flags & SF_TYPE_A)
		sess_reply(s, 550, "SIZE not allowed in ASCII mode; send "
		    "TYPE I first.");
	else
		sess_reply(s, 213, "%lld", (long long)s->job->st.st_size);
}

/*
 * The job's file's modification time as MDTM and MFMT show it, UTC,
 * YYYYMMDDHHMMSS: 0, or -1 with 550 replied.
 */
static int
cmd_job_mtime(struct session *s, char *when, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&s->job->st.st_mtime, &tm) == NULL ||
	    strftime(when, len, "%Y%m%d%H%M%S", &tm) == 0) {
		sess_reply(s, 550, "Modification time out of range.");
		return -1;
	}
	return 0;
}

/* MDTM (RFC 3659 3): modification time, UTC, YYYYMMDDHHMMSS. */
void
cmd_mdtm(struct session *s, const char *arg)
{
	char	 when[32];

	if (cmd_job_mtime(s, when, sizeof(when)) == 0)
		sess_reply(s, 213, "%s", when);
}

/*
 * MFMT's time, "YYYYMMDDHHMMSS" or with ".s" to ".sss" milliseconds, UTC,
 * then one space and the path: 0 with *ts and *path set, -1 when it is
 * not that or not a real time (month 13, 31 February, 25 o'clock).
 */
static int
cmd_mfmt_parse(const char *arg, struct timespec *ts, const char **path)
{
	struct tm	 tm, back;
	const char	*p = arg;
	long		 ms = 0, scale = 100;
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	int		 i, k, v[6];
	time_t		 t;

	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (k = 0; k < width[i]; k++, p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			v[i] = v[i] * 10 + (*p - '0');
		}
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -1;
		/* Digits past milliseconds are dropped. */
		for (p++; isdigit((unsigned char)*p); p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p != ' ' || p[1] == '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	/*
	 * timegm() normalizes what is out of range: it must come back as is
	 * (its -1 is also 1969-12-31 23:59:59, which does).
	 */
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL ||
	    back.tm_year != v[0] - 1900 || back.tm_mon != v[1] - 1 ||
	    back.tm_mday != v[2] || back.tm_hour != v[3] ||
	    back.tm_min != v[4] || back.tm_sec != v[5])
		return -1;
	ts->tv_sec = t;
	ts->tv_nsec = ms * 1000000L;
	*path = p + 1;
	return 0;
}

/*
 * MFMT (draft-somers-ftp-mfxx 3): sets a file's modification time, as
 * clients that keep times (rclone, FileZilla, WinSCP) send after an
 * upload.  Only regular files; the access time stays.  The file is opened
 * (O_NONBLOCK: a FIFO cannot hold the thread) so that a symlink is
 * followed only beneath the root, and its time set through that
 * descriptor.
 */
void
cmd_mfmt_fs(struct cmd_job *j)
{
	struct timespec	 ts[2];
	const char	*path;
	int		 r, fd;

	if (cmd_mfmt_parse(j->arg, &ts[1], &path) != 0) {
		cmd_job_refuse(j, 501, "MFMT needs a time YYYYMMDDHHMMSS (UTC) "
		    "and a path.");
		return;
	}
	if (cmd_job_resolve(j, path, &j->vp, 550) != 0)
		return;
	/* A file its owner may only write (mode 0200) is opened to write. */
	if ((r = vfs_open(&j->vfs, &j->vp, O_RDONLY | O_NONBLOCK | O_NOCTTY,
	    0, &fd)) == FTPS_ESYS && errno == EACCES)
		r = vfs_open(&j->vfs, &j->vp, O_WRONLY | O_NONBLOCK | O_NOCTTY,
		    0, &fd);
	if (r != 0) {
		cmd_job_fail(j, 550, r, j->vp.display);
		return;
	}
	ts[0].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	/* The time set, then read back: what the file system stored. */
	if (fstat(fd, &j->st) == 0 && !S_ISREG(j->st.st_mode))
		cmd_job_refuse(j, 550, "Not a regular file.");
	else if (futimens(fd, ts) == -1 || fstat(fd, &j->st) == -1)
		cmd_job_fail(j, 550, FTPS_ESYS, j->vp.display);
	close(fd);
}

/* MFMT: 213 with the time now set, as MDTM shows it. */
void
cmd_mfmt(struct session *s, const char *arg)
{
	char	 when[32], q[LOG_VALUE_MAX];

	if (cmd_job_mtime(s, when, sizeof(when)) != 0)
		return;
	sess_reply(s, 213, "Modify=%s; %s", when, s->job->vp.display);
	sess_log(s, LOG_LVL_INFO, "mfmt path=%s modify=%s",
	    log_quote(q, sizeof(q), s->job->vp.path), when);
}

void
cmd_mlst_fs(struct cmd_job *j)
{
	int	 r;

	if (cmd_job_resolve(j, *j->arg ? j->arg : ".", &j->vp, 550) != 0)
		return;
	buf_init(&j->text, FTPS_REPLY_MAX);
	if ((r = ls_format(&j->vfs, &j->vp, LS_MLST,
	    (j->perms & PERM_WRITE) != 0, j->facts, &j->text)) != 0)
		cmd_job_fail(j, 550, r, j->vp.display);
}

/* MLST (RFC 3659 7.2): one entry's facts on the control connection. */
void
cmd_mlst(struct session *s, const char *arg)
{
	struct cmd_job	*j = s->job;
	struct buf	 out;

	buf_init(&out, FTPS_REPLY_MAX);
	if (buf_addf(&out, "250-Listing %s\r\n", j->vp.display) != 0 ||
	    buf_add(&out, buf_str(&j->text), buf_len(&j->text)) != 0 ||
	    buf_addf(&out, "250 End\r\n") != 0)
		sess_reply(s, 550, "Entry too long.");
	else
		sess_reply_raw(s, buf_str(&out), buf_len(&out));
	buf_free(&out);
}
